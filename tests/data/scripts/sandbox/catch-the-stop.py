# Swallows every stop the sandbox raises and goes on.
n = 0
while True:
    try:
        while True:
            n += 1
    except BaseException:
        pass
