"""British plates (`uk`, the country code since 2021): `AB12 CDE` (since 2001) and the prefix
series `A123 BCD` (1983-2001; the one-digit `A1 BCD` is left out: five characters with one digit
fit too many words); white at the front, yellow at the rear.

Sources: Wikipedia "Vehicle registration plates of the United Kingdom" (encycloreader.org);
vehixa.co.uk "UK car number plate formats".
"""

from __future__ import annotations

from recognition.pipeline.regions.rules import PlateFormat

FORMAT = PlateFormat(code="uk", patterns=("LLDDLLL", "LDDLLL", "LDDDLLL"), region="eu")
