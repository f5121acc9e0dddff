"""Ukrainian plates: the allowed letters, the region prefixes and the closest-prefix repair.

Sources (looked up, not guessed):
- Wikipedia, "Vehicle registration plates of Ukraine" (en; mirrors iiab.live, wikimili.com,
  wikipedia.moesalih.com): the 12 Latin look-alike letters (А В Е І К М Н О Р С Т Х); the 2004
  series `AA 1234 BB` on a 520 x 112 mm plate; the 1995 series of five digits with a dash after
  the third and a two-letter suffix, with a two-digit region code under the flag.
- kennzeichen-guide.de/schilder-europas/ukraine: the region prefixes (2004 and 2013 codes) and
  the 1995 region digits 01 (Crimea) to 27 (Chernivtsi).
- uamotors.com.ua/news/56311: the series suffix of cars is issued from the start of the alphabet
  (AA, AB, ...) and that of trailers from its end (XX, XT, XP, ...).
"""

from __future__ import annotations

from collections.abc import Sequence

from recognition.pipeline.regions.rules import CharProbs, Fitted

UA_LETTERS = "ABCEHIKMOPTX"
UA_PATTERN = "LLDDDDLL"
# Region prefixes of the 2004/2015 series (Latin look-alikes of the Cyrillic letters), including
# the K*, H* and I* series issued since 2021.
UA_REGIONS = frozenset(
    (
        "AA AB AC AE AH AI AK AM AO AP AT AX BA BB BC BE BH BI BK BM BO BT BX CA CB CE CH "
        "KA KB KC KE KH KI KK KM KO KP KT KX HA HB HC HE HH HI HK HM HO HP HT HX "
        "IA IB IC IE IH II IK IM IO IP IT IX"
    ).split()
)
# The 1995 series' region code, printed small under the flag (not part of the number).
UA_1995_REGION_DIGITS = tuple(f"{n:02d}" for n in range(1, 28))
# A prefix letter below this confidence may be replaced to reach a valid prefix.
UNCERTAIN = 0.9
# Letter pairs that look alike in the plate font; used to pick among several valid prefixes.
LOOKALIKE = frozenset(
    frozenset(p)
    for p in ("OC", "EB", "EC", "MH", "MK", "PB", "TI", "XK", "XH", "KH", "PE", "OA", "TA", "XA")
)
# Replacing a prefix letter without the OCR's own support costs this factor.
PREFIX_FIX_FACTOR = 0.6


def _candidates(
    prefix: str, confs: Sequence[float], probs: Sequence[CharProbs]
) -> list[tuple[float, str, int, float]]:
    """(score, prefix, position, new confidence) of valid prefixes one letter away."""
    found = []
    for pos in (0, 1):
        options = probs[pos] if pos < len(probs) else ()
        for ch, p in options[1:]:
            new = prefix[:pos] + ch + prefix[pos + 1 :]
            if new in UA_REGIONS:
                found.append((p / max(confs[pos], 1e-6), new, pos, p))
        if confs[pos] >= UNCERTAIN:
            continue
        for new in sorted(UA_REGIONS):
            if new[1 - pos] != prefix[1 - pos] or new == prefix or any(new == f[1] for f in found):
                continue
            alike = frozenset((prefix[pos], new[pos])) in LOOKALIKE
            score = PREFIX_FIX_FACTOR * (1.0 - confs[pos]) * (1.0 if alike else 0.5)
            found.append((score, new, pos, 1.0 - confs[pos]))
    return sorted(found, reverse=True)


def refine_prefix(fitted: Fitted, probs: Sequence[CharProbs]) -> Fitted | None:
    """A valid region prefix stays; one uncertain letter may move to the closest valid prefix."""
    prefix = fitted.text[:2]
    if prefix in UA_REGIONS:
        return fitted
    confs = fitted.char_confidences
    candidates = _candidates(prefix, confs, probs)
    if not candidates:
        return None
    score, new, pos, conf = candidates[0]
    new_confs = list(confs)
    new_confs[pos] = conf
    return Fitted(
        new + fitted.text[2:],
        fitted.format,
        tuple(new_confs),
        fitted.factor * min(score, 1.0),
        fitted.fixes + 1,
    )


def prefix_alternatives(
    prefix: str, confs: Sequence[float], probs: Sequence[CharProbs]
) -> list[str]:
    """Valid prefixes one uncertain letter away from `prefix`, best first."""
    return [c[1] for c in _candidates(prefix, confs, probs)]


def has_region_prefix(fitted: Fitted, start: int) -> Fitted | None:
    """The fitted text with a valid region prefix at `start`, as it stands (no repair)."""
    return fitted if fitted.text[start : start + 2] in UA_REGIONS else None
