"""Runnable benchmarks that print their figures (README's tables quote them with their commands)."""
