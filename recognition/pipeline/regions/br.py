"""Brazilian plates: the grey `ABC-1234` series and the Mercosul `ABC1D23`."""

from __future__ import annotations

from recognition.pipeline.regions.rules import PlateFormat

FORMAT = PlateFormat(code="br", patterns=("LLLDDDD", "LLLDLDD"), region="br")
