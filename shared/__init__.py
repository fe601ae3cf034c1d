"""Code shared by the service (insight) and the console: settings, domain types, phones, store."""
