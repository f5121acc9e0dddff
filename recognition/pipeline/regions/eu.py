"""Generic European band plate (Slovak, Czech, Polish, German... layouts seen in the data)."""

from __future__ import annotations

from recognition.pipeline.regions.rules import PlateFormat

# Slovak BA123XY and BA1234, Czech 1AB2345, Polish and German short forms, and the generator's.
FORMAT = PlateFormat(
    code="eu",
    patterns=(
        "LLDDDLL", "LLDDDD", "LLLDDDD", "LDDDDLL", "LLDDDLLL", "DLLDDDD", "DLDDDDD",
        "LLDDDDL", "LLLDDDLL", "LLDDDDLL", "LLLDDLL",
    ),
)  # fmt: skip
