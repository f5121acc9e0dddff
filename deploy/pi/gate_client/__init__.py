"""Raspberry Pi client for platecheck parking gates: capture, sign, post, open the relay.

Standalone on purpose: it runs on a Pi without Django or the rest of the project.
"""

__version__ = "1.0.0"
