"""deploy/env.example against what the code reads: the README promises it lists every setting,
so an operator never has to read settings.py to find a knob (WEBHOOK_TIMEOUT_S, DB_CONN_MAX_AGE)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
READERS = {"envstr", "envint", "envbool", "envlist", "get", "getenv"}
# Where a setting may be documented instead: the units and the stack script set a few per process.
DOCUMENTED_IN = [
    REPO / "deploy" / "env.example",
    *sorted((REPO / "deploy" / "systemd").glob("*.service")),
    REPO / "deploy" / "stack.sh",
]
# Read by settings.py for the test suite and the demo only, never set in production.
NOT_FOR_PRODUCTION = {"CELERY_TASK_EAGER_PROPAGATES"}


def _read_names(path: Path) -> set[str]:
    """Names passed as a literal to envstr/envint/envbool/envlist or os.environ.get/os.getenv."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if called == "get" and "environ" not in ast.unparse(func):
            continue  # globals().get(...), a dict's get
        first = node.args[0]
        if called in READERS and isinstance(first, ast.Constant) and isinstance(first.value, str):
            if re.fullmatch(r"[A-Z][A-Z0-9_]+", first.value):
                names.add(first.value)
    return names


def test_every_setting_the_code_reads_is_documented_for_operators():
    read = _read_names(REPO / "webapp" / "settings.py") | _read_names(
        REPO / "deploy" / "gunicorn.conf.py"
    )
    assert "WEBHOOK_TIMEOUT_S" in read  # the parse finds what it should
    documented = "\n".join(path.read_text() for path in DOCUMENTED_IN)
    missing = sorted(
        name
        for name in read - NOT_FOR_PRODUCTION
        if not re.search(rf"^(# ?)?(Environment=)?{name}=", documented, re.MULTILINE)
    )
    assert missing == []
