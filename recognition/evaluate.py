"""Benchmarks of the recognition engine.

python -m recognition.evaluate detect [--data ../shared/datasets] [--out bench/out]
python -m recognition.evaluate read   [--data ../shared/datasets] [--out bench/out]
python -m recognition.evaluate e2e    [--data ../shared/datasets] [--out bench/out]
"""

from __future__ import annotations

import logging
import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("detect", "read", "e2e"):
        sys.stderr.write(__doc__ or "")
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    if argv[0] == "detect":
        from recognition.evaluate_detect import main as run
    elif argv[0] == "e2e":
        from recognition.evaluate_endtoend import main as run
    else:
        from recognition.evaluate_read import main as run
    run(argv[1:])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
