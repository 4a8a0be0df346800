# Python values that are not JSON as such: tuples, sets, dates, NaN, integer keys.
import datetime
import math

result = {
    "pair": (1, 2),
    "tags": {"a"},
    "when": datetime.date(2024, 1, 2),
    "missing": math.nan,
    "nested": {1: (True,)},
}
