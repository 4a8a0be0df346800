computed = context.get("some-step")
