"""Random plate text for every rendered format, as printed rows (see the format rules in
`recognition/pipeline/regions/` for the sources of each layout)."""

from __future__ import annotations

import random
import string

from recognition.pipeline.regions import md, pl, ro, sk, ua_diplomatic, ukraine

UA_LETTERS = ukraine.UA_LETTERS
# In the order the renderer has always drawn them from, so that seeded sets stay the same.
UA_REGIONS = (
    "AA AB AC AE AH AI AK AM AO AP AT AX BA BB BC BE BH BI BK BM BO BT BX CA CB CE CH "
    "KA KB KC KE KH KI KK KM KO KP KT KX HA HB HC HE HH HI HK HM HO HP HT HX "
    "IA IB IC IE IH II IK IM IO IP IT IX"
).split()
DIGITS = string.digits
NO_Q = string.ascii_uppercase.replace("Q", "")


def _pick(pool: str, n: int, rng: random.Random) -> str:
    return "".join(rng.choice(pool) for _ in range(n))


def _ua_number(rng: random.Random, suffix: str | None = None) -> str:
    # Region, series, then digits: the draw order the renderer has always used.
    region = rng.choice(UA_REGIONS)
    suffix = suffix or _pick(UA_LETTERS, 2, rng)
    return region + _pick(DIGITS, 4, rng) + suffix


def _ua(fmt: str, rng: random.Random) -> tuple[str, ...]:
    if fmt in ("ua_2015", "ua_2004"):
        return (_ua_number(rng),)
    if fmt == "ua_trailer":  # trailer series are issued from the end of the alphabet: X*
        return (_ua_number(rng, "X" + rng.choice(UA_LETTERS)),)
    if fmt == "ua_square":
        region, number = rng.choice(UA_REGIONS), _pick(DIGITS, 4, rng)
        return (region, number + _pick(UA_LETTERS, 2, rng))
    if fmt == "ua_moto":
        text = _ua_number(rng)
        return (text[:2], text[2:6], text[6:])
    if fmt == "ua_1995":
        return (_pick(DIGITS, 5, rng) + _pick(UA_LETTERS, 2, rng),)
    if fmt == "ua_1995_square":
        return (_pick(DIGITS, 5, rng), _pick(UA_LETTERS, 2, rng))
    if fmt == "ua_transit":
        region = rng.choice(ukraine.UA_1995_REGION_DIGITS)
        return (region + rng.choice(UA_REGIONS) + _pick(DIGITS, 4, rng),)
    if fmt == "ua_diplomatic":
        head = rng.choice(ua_diplomatic.PREFIXES)
        code = rng.choice("0123") + _pick(DIGITS, 2, rng)
        tail = "" if head in ua_diplomatic.CODE_ONLY else _pick(DIGITS, 3, rng)
        return (head + code + tail,)
    raise ValueError(f"unknown plate format {fmt!r}")


def _slots(pattern: str, rng: random.Random, letters: str = NO_Q, digits: str = DIGITS) -> str:
    return "".join(rng.choice(digits if p == "D" else letters) for p in pattern)


def _slovak(regular: str) -> str:
    """One Slovak plate in five is on request (district code, then the owner's letters). It is
    drawn from a generator of its own, seeded by the regular draw, so that the seeded sets' other
    plates stay the same."""
    own = random.Random(regular)
    if own.random() >= 0.2:
        return regular
    pattern = own.choice(sk.ON_REQUEST)
    first = own.choice([c for c in string.ascii_uppercase if c not in sk.NEVER_FIRST])
    rest = _slots(pattern[3:], own, string.ascii_uppercase, sk.ON_REQUEST_DIGITS)
    return own.choice(sorted(sk.DISTRICTS)) + first + rest


def _europe(fmt: str, rng: random.Random) -> tuple[str, ...]:
    if fmt == "pl":
        pattern = rng.choice(pl.PATTERNS)
        return (rng.choice(sorted(pl.VOIVODESHIPS)) + _slots(pattern[1:], rng),)
    if fmt == "md":
        if rng.random() < 0.7:  # the 2015 plate
            return (_slots("LLLDDD", rng),)
        district = rng.choice([*sorted(md.DISTRICTS), "C", "K"])
        return (district + _slots("LL", rng) + _slots("DDD", rng),)
    if fmt == "ro":
        county = rng.choice(sorted(ro.COUNTIES))
        digits = 3 if county == "B" and rng.random() < 0.5 else 2
        tail = rng.choice(ro.LETTERS.replace("I", "").replace("O", "")) + _pick(ro.LETTERS, 2, rng)
        return (county + _pick(DIGITS, digits, rng) + tail,)
    if fmt == "sk":
        return (_slovak(_slots(sk.REGULAR, rng)),)
    if fmt == "hu":
        return (_slots(rng.choice(("LLLDDD", "LLLLDDD")), rng),)
    if fmt == "eu":
        n1, n2, n3 = rng.choice(((2, 3, 2), (2, 4, 0), (3, 4, 0), (1, 4, 2), (2, 3, 3)))
        return (_pick(NO_Q, n1, rng) + _pick(DIGITS, n2, rng) + _pick(NO_Q, n3, rng),)
    if fmt == "uk":
        letters = string.ascii_uppercase.replace("I", "").replace("Q", "")
        if rng.random() < 0.7:  # the current AB12 CDE
            return (_pick(letters, 2, rng) + _pick(DIGITS, 2, rng) + _pick(letters, 3, rng),)
        return (
            rng.choice(letters) + _pick(DIGITS, rng.randint(2, 3), rng) + _pick(letters, 3, rng),
        )
    raise ValueError(f"unknown plate format {fmt!r}")


def random_text(fmt: str, rng: random.Random) -> tuple[str, ...]:
    """Random plate text for a format, as printed rows (top to bottom)."""
    if fmt.startswith("ua_"):
        return _ua(fmt, rng)
    if fmt == "us":
        pattern = rng.choice(("LLLDDDD", "DLLLDDD", "LLLDDD", "DDDLLL", "LLDDDDD", "DLLLDDD"))
        return (_slots(pattern, rng, string.ascii_uppercase),)
    if fmt == "br":
        head = _pick(string.ascii_uppercase, 3, rng)
        if rng.random() < 0.6:  # the older grey plate, as in the openalpr crops
            return (head + _pick(DIGITS, 4, rng),)
        return (head + _slots("DLDD", rng, string.ascii_uppercase),)
    return _europe(fmt, rng)
