var items = context.items;
result = items.length;
