total = 0
result = 10 / total
