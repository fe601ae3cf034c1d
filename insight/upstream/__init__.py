"""Clients of the outside world: Bullhorn REST and Aircall REST, on injected `httpx.AsyncClient`s."""
