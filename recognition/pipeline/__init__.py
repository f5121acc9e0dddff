"""The recognition engine: detection, rectification, reading and format rules.

Nothing in this package imports Django, so training scripts, the evaluation CLI and the Celery
worker all call the same code.
"""
