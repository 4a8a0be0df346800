result = 10n;
