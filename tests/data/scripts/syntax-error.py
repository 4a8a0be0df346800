ok = 1
def broken(:
    pass
result = ok
