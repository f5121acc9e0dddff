"""Slovak plates: `BA-123AB`, two letters (the district until 2022, assigned from AA state-wide
since 2023), three digits and two letters; EU band with `SK` and the coat of arms.

A plate on request (EČVL, "evidenčné číslo s voliteľnou logistikou") keeps the district code and
puts the owner's choice after it: five letters (`BA-AAAAA`), four letters and a digit 1-9
(`BA-AAAA1`), or three letters and two digits 1-9 (`BA-AAA11`); never X or O right after the
district. Since 2023 a plate on request may be any seven characters (`JANICKO`, `AAA1B2C`): that
is a catch-all, so those plates are not accepted here.

Sources: Wikipedia "Vehicle registration plates of Slovakia" (mirrors wikiwand.com,
profilbaru.com, piglix.com; its table of district codes); Slovak Wikipedia "Evidenčné číslo s
voliteľnou logistikou" (2007 static dump) and poisti.sk "Rozdelenie evidenčných čísel" (plates on
request: 5 letters, 4 letters and a digit, 3 letters and two digits); topky.sk, 2023-01 (the
state-wide numbering, free text on request).
"""

from __future__ import annotations

from collections.abc import Sequence

from recognition.pipeline.regions.rules import CharProbs, Fitted, PlateFormat

# District codes (Wikipedia's table): the regional seats hold more than one.
DISTRICTS = frozenset(
    (
        "BA BL BT BB BJ BN BR BS BY CA DK DS DT GA GL HC HE IL KA KE KK KM KN KS LC LE LM LV MA "
        "MI ML MT MY NR NM NO NZ PB PD PE PK PN PO PP PT PU RA RK RS RV SA SB SC SE SI SK SL SN "
        "SO SP SV TT TN TO TR TS TV VK VT ZA ZC ZH ZM ZV"
    ).split()
)
REGULAR = "LLDDDLL"
# A plate on request: the district code, then five letters, four letters and a digit, or three
# letters and two digits.
ON_REQUEST = ("LLLLLLL", "LLLLLLD", "LLLLLDD")
ON_REQUEST_DIGITS = "123456789"
NEVER_FIRST = "XO"  # right after the district, on request


def refine_on_request(fitted: Fitted, probs: Sequence[CharProbs]) -> Fitted | None:
    text = fitted.text
    if text[2:5].isdigit():  # the regular plate: any two letters since 2023
        return fitted
    digits_ok = all(c in ON_REQUEST_DIGITS for c in text if c.isdigit())
    if text[:2] not in DISTRICTS or text[2] in NEVER_FIRST or not digits_ok:
        return None
    return fitted


FORMAT = PlateFormat(
    code="sk", patterns=(REGULAR, *ON_REQUEST), refine=refine_on_request, region="eu"
)
