"""The `web` process's parts: routes, their JSON and HTML, webhook intake, card pushes, metrics."""
