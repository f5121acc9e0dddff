"""The gates task module: the engine preload only where asked for."""

from __future__ import annotations

from recognition import engine_loader
from webapp.gates.tasks import _preload_engine


def test_the_engine_is_preloaded_only_in_the_gates_worker(settings, engine_control):
    settings.GATES_PRELOAD_ENGINE = False
    _preload_engine()
    assert engine_loader._engine is None
    settings.GATES_PRELOAD_ENGINE = True
    _preload_engine()
    assert engine_loader._engine is not None


def test_a_missing_engine_does_not_stop_the_worker(settings, engine_control, caplog):
    (engine_control / "mode").write_text("unavailable")
    settings.GATES_PRELOAD_ENGINE = True
    _preload_engine()
    assert "without an engine" in caplog.text
