"""Loads the recognition engine once per worker process, on first use.

Never at import and never in AppConfig.ready(): a prefork worker must fork before CUDA starts,
and web processes that never recognise anything must not pay for the model at all.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from django.conf import settings

from recognition.pipeline.types import Engine, EngineUnavailable, PhotoResult

logger = logging.getLogger(__name__)

_engine: Engine | None = None
_lock = threading.Lock()


class TransientRecognitionError(RuntimeError):
    """Worth retrying later: the GPU was out of memory or a resource timed out."""


# Exception class names raised by torch/CUDA for conditions that pass on their own.
_TRANSIENT_NAMES = frozenset({"OutOfMemoryError", "AcceleratorError"})


def engine_factory(dotted: str) -> Callable[..., Engine]:
    module_name, _, attr = dotted.partition(":")
    if not module_name or not attr:
        raise EngineUnavailable(f"PLATECHECK_ENGINE must be 'module:callable', got {dotted!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise EngineUnavailable(f"cannot import {module_name}: {exc}") from exc
    factory = getattr(module, attr, None)
    if factory is None:
        raise EngineUnavailable(f"{module_name} has no {attr}")
    return factory  # type: ignore[no-any-return]


def get_engine() -> Engine:
    """The process-wide engine; a failed load is not cached, so installing weights heals it."""
    global _engine
    if _engine is not None:
        return _engine
    with _lock:
        if _engine is None:
            factory = engine_factory(settings.PLATECHECK_ENGINE)
            engine = factory(
                models_dir=Path(settings.PLATECHECK_MODELS_DIR),
                regions=settings.PLATECHECK_REGIONS,
            )
            logger.info("recognition engine %s loaded", engine.version)
            _engine = engine
    return _engine


def reset_engine() -> None:
    global _engine
    with _lock:
        _engine = None


def engine_recognize(engine: Engine, images: Sequence[np.ndarray]) -> list[PhotoResult]:
    try:
        results = engine.recognize_batch(images)
    except Exception as exc:
        if type(exc).__name__ in _TRANSIENT_NAMES:
            raise TransientRecognitionError(f"{type(exc).__name__}: {exc}") from exc
        raise
    if len(results) != len(images):
        raise RuntimeError(f"engine returned {len(results)} results for {len(images)} images")
    return results
