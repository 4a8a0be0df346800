# The allowed modules at work, lazily imported helpers included (strptime, most_common).
import collections
import datetime
import functools
import itertools
import json
import math
import re
import statistics
from collections import Counter, namedtuple

Point = namedtuple("Point", "x y")
total = 0
for value in itertools.chain(range(5), range(5, 10)):
    total += value
result = {
    "common": Counter("abracadabra").most_common(2),
    "date": datetime.datetime.strptime("2024-01-02", "%Y-%m-%d"),
    "median": statistics.median([1, 5, 3]),
    "sub": re.sub(r"a+", "-", "baaad"),
    "point": json.loads(json.dumps(Point(1, 2))),
    "total": total,
    "padded": f"{total:05d}",
    "product": functools.reduce(lambda a, b: a * b, [1, 2, 3]),
    "sqrt": math.sqrt(16),
}
assert isinstance(collections.OrderedDict(), dict)
