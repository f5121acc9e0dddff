"""Generic European band plate: layouts of the other EU countries seen in the data (Czech
`1AB 2345`, German and Bulgarian forms...).

It is generic: its reading of a text is dropped when a country's own format of the active regions
fits the same text as read (then that country's format names it).
"""

from __future__ import annotations

from recognition.pipeline.regions.rules import PlateFormat

FORMAT = PlateFormat(
    code="eu",
    patterns=(
        "LLDDDLL", "LLDDDD", "LLLDDDD", "LDDDDLL", "LLDDDLLL", "DLLDDDD", "DLDDDDD",
        "LLDDDDL", "LLLDDDLL", "LLDDDDLL", "LLLDDLL",
    ),
    region="eu",
    generic=True,
)  # fmt: skip
