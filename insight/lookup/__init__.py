"""Caller lookup shared by `web` (cards) and `worker` (note matching): index, caches, live search."""
