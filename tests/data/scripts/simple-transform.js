result = { greeting: "hello", count: 42, flag: true, org: context.org };
