# One builtin call that runs for hours without returning to the interpreter loop.
result = sum(range(10 ** 13))
