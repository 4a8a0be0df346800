result = function () { return 1; };
