limit = int(context["threshold"])
result = [item for item in context["fetch-items"] if item["stock"] < limit]
