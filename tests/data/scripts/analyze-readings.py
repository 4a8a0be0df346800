# Average, min, max and count of the temperatures fetched by the `fetch-readings` step.
readings = context["fetch-readings"]
temperatures = [reading["temperature"] for reading in readings]
result = summarize(temperatures)
result["device"] = context.get("device-id")
