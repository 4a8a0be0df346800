# Statistics of the `values` argument through lib/stats.py.
result = summarize(context["values"])
