"""Benchmarks of the recognition engine.

python -m recognition.evaluation detect [--data DIR] [--models DIR] [--out DIR] [--limit N]
python -m recognition.evaluation read   [--data DIR] [--models DIR] [--out DIR] [--limit N]
python -m recognition.evaluation e2e    [--data DIR] [--models DIR] [--out DIR] [--limit N]
python -m recognition.evaluation redact [--data DIR] [--models DIR] [--out DIR] [--limit N]

Every command takes the same flags for the same things: --data the shared datasets folder
(../shared/datasets), --models the models folder holding detector/ and ocr/ (models), --out
where the JSON and plots go (bench/out), --limit N real val items only (smoke runs).
"""

from __future__ import annotations

import logging
import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("detect", "read", "e2e", "redact"):
        sys.stderr.write(__doc__ or "")
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    if argv[0] == "detect":
        from recognition.evaluation.detection import main as run
    elif argv[0] == "e2e":
        from recognition.evaluation.endtoend import main as run
    elif argv[0] == "redact":
        from recognition.evaluation.redaction import main as run
    else:
        from recognition.evaluation.reading import main as run
    run(argv[1:])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
