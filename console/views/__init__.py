"""The console's pages; each renders from what `console.client.ServiceClient` returns."""
