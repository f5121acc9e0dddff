"""Slovak plates: `BA-123AB`, two letters (the district until 2022, assigned from AA state-wide
since 2023), three digits and two letters; EU band with `SK` and the coat of arms.

Source: Wikipedia "Vehicle registration plates of Slovakia" (mirrors wikiwand.com,
profilbaru.com, piglix.com).
"""

from __future__ import annotations

from recognition.pipeline.regions.rules import PlateFormat

FORMAT = PlateFormat(code="sk", patterns=("LLDDDLL",), region="eu")
