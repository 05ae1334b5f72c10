"""Benchmarks that print figures; run each from the checkout as `python -m bench.<name>`."""
