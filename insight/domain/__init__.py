"""Pure domain rules over plain data: no I/O, no clock, no framework (`lint-imports` checks it)."""
