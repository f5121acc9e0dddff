"""Offline measurement of the recognition engine: benchmarks, metrics, fitting the reader's check.

Run with `python -m recognition.evaluation detect|read|e2e` (see `__main__.py`). Nothing here
runs in the product; the product's code is `recognition.pipeline`, which never imports this.
"""
