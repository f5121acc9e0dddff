from __future__ import annotations

from recognition.cli import main

raise SystemExit(main())
