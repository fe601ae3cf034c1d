"""Backfill: Aircall's call list read from a watermark, calls the webhooks missed taken in (DESIGN §11).

Used by the worker (periodic runs) and by `web` (runs an operator asks for), hence its own package
beside `lookup`: it may import the upstream clients, the store and the domain, never web or worker.
"""
