# Statistics helpers shared by Python script steps (a `dependencies` entry).
import statistics


def summarize(values):
    return {
        "average": statistics.mean(values),
        "min": min(values),
        "max": max(values),
        "count": len(values),
    }
