# Grows without bound: the memory limit must stop it.
hoard = []
while True:
    hoard.append("x" * 10_000_000)
