var computed = context["some-step"];
