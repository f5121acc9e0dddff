"""Each plate format's rules accept the renderer's samples of it and refuse the other formats'."""

from __future__ import annotations

import itertools
import random
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recognition.pipeline.regions import (
    DEFAULT_REGIONS,
    FORMATS,
    OVERLAPS,
    Candidate,
    FormatHint,
    UnknownRegion,
    fix_text,
    is_valid,
    region_formats,
    resolve,
)
from recognition.pipeline.regions.rules import PlateFormat
from recognition.synth.plates import FORMATS as RENDERED
from recognition.synth.plates import render_plate

SAMPLES = 40


def sure(text: str, p: float = 0.99) -> tuple[tuple[tuple[str, float], ...], ...]:
    return tuple(((ch, p),) for ch in text)


@pytest.fixture(scope="module")
def samples() -> dict[str, list[str]]:
    rng = random.Random(15)
    return {fmt: [render_plate(fmt, rng).text for _ in range(SAMPLES)] for fmt in RENDERED}


def test_the_renderer_and_the_rules_cover_the_same_formats() -> None:
    # us_state is the fallback for other states' serials: the renderer draws US plates as "us"
    assert set(RENDERED) == set(FORMATS) - {"us_state"}
    for fmt in ("ua_1995", "ua_1995_square", "ua_moto", "ua_trailer", "ua_transit"):
        assert fmt in FORMATS
    for fmt in ("ua_diplomatic", "pl", "md", "ro", "sk", "hu", "eu"):
        assert fmt in FORMATS


@pytest.mark.parametrize("fmt", RENDERED)
def test_each_format_accepts_its_rendered_samples(samples: dict[str, list[str]], fmt: str) -> None:
    refused = [t for t in samples[fmt] if not is_valid(t, fmt)]
    assert not refused, refused


# Formats of different row counts are told apart by the rows, not the text; the generic EU
# format and the listed overlaps genuinely share texts (the hint decides, tested below).
EXCLUSIVE_PAIRS = [
    (a, b)
    for a, b in itertools.permutations(RENDERED, 2)
    if FORMATS[a].rows == FORMATS[b].rows
    and not (FORMATS[a].generic or FORMATS[b].generic)
    and frozenset((a, b)) not in OVERLAPS
]


@pytest.mark.parametrize(("fmt", "other"), EXCLUSIVE_PAIRS)
def test_each_format_refuses_the_other_formats_samples(
    samples: dict[str, list[str]], fmt: str, other: str
) -> None:
    accepted = [t for t in samples[fmt] if is_valid(t, other)]
    assert not accepted, f"{other} accepts {fmt} samples {accepted}"


def test_most_format_pairs_are_exclusive() -> None:
    one_row = [f for f in RENDERED if FORMATS[f].rows == 1 and not FORMATS[f].generic]
    pairs = len(one_row) * (len(one_row) - 1)
    assert len(EXCLUSIVE_PAIRS) >= 0.8 * pairs


def test_every_listed_overlap_is_real(samples: dict[str, list[str]]) -> None:
    # An overlap that no sample shows would be an excuse, not a fact about the formats.
    for pair in OVERLAPS:
        a, b = sorted(pair)
        shared = [t for t in samples[a] + samples[b] if is_valid(t, a) and is_valid(t, b)]
        assert shared, f"{a}/{b} listed as overlapping but share no rendered text"


def test_a_trailer_number_is_reported_as_the_car_format_its_band_shows() -> None:
    # A trailer's text is also a car plate (its series starts with X); the register key is the
    # same, and the format reported is the car plate's.
    best = resolve([Candidate("AA1234XT", 0.9, sure("AA1234XT"))], FormatHint({"ua_2015": 1.0}))
    assert (best.format, best.text, best.valid) == ("ua_2015", "AA1234XT", True)
    assert is_valid("AA1234XT", "ua_trailer")
    assert not is_valid("AA1234BT", "ua_trailer")


def test_overlapping_texts_go_to_the_format_the_hint_favours() -> None:
    text = "BA123XY"  # Slovak, and also Polish `B` (Podlaskie) + `A123XY`
    polish = resolve([Candidate(text, 0.9, sure(text))], FormatHint({"pl": 1.0, "sk": 0.5}))
    slovak = resolve([Candidate(text, 0.9, sure(text))], FormatHint({"pl": 0.5, "sk": 1.0}))
    assert (polish.format, slovak.format) == ("pl", "sk")


PLATE_ALPHABET = frozenset(string.ascii_uppercase + string.digits)
# Other Unicode digits (fullwidth as a CJK recogniser such as the rapidocr peer writes them,
# Arabic-Indic, superscript), Cyrillic, lower case and separators, among plate characters.
READ_CHARS = string.ascii_letters + string.digits + " -.АВЕІКМНОРСТХЖ１２٣²"


@pytest.mark.parametrize("text", ["AA１234BB", "AA١٢٣٤BB", "AA12³4BB", "0000١"])
def test_a_digit_of_another_script_is_no_plate_digit(text: str) -> None:
    # str.isdigit() holds for them: the rules took "AA１234BB" for a valid plate, outside the
    # plate alphabet, and the register never matches it.
    best = resolve([Candidate(text, 0.95, sure(text))])
    assert not best.valid
    assert not any(is_valid(text, fmt) for fmt in FORMATS)


@settings(max_examples=300, deadline=None)
@given(text=st.text(READ_CHARS, max_size=10), score=st.floats(0, 1), rows=st.integers(0, 3))
def test_a_valid_reading_is_written_in_the_plate_alphabet(text: str, score: float, rows: int):
    best = resolve([Candidate(text, score)], FormatHint(rows=rows, two_line=rows > 1))
    if best.valid:
        assert set(best.text) <= PLATE_ALPHABET
        assert 0.0 <= best.confidence <= 1.0
    for fmt in FORMATS:
        fixed = fix_text(text, fmt)
        assert fixed is None or set(fixed) <= PLATE_ALPHABET


@pytest.mark.parametrize(
    "junk", ["KIA", "TOYOTA", "SIENNA", "LOTOS", "LEXUS", "RENAULT", "HYUNDAI", "OLX", "SKODA"]
)
def test_badges_and_model_names_fit_no_format(junk: str) -> None:
    best = resolve([Candidate(junk, 0.95, sure(junk))])
    assert not best.valid
    assert best.format == "unknown"
    assert not any(is_valid(junk, fmt) for fmt in FORMATS)


@pytest.mark.parametrize("text", ["V6", "2024", "X5M", "4MATIC", "GTI", "1.6TDI", "AMG63"])
def test_badge_text_with_digits_is_no_plate_of_the_default_regions(text: str) -> None:
    best = resolve([Candidate(text, 0.95, sure(text))], formats=region_formats(DEFAULT_REGIONS))
    assert not best.valid


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        ("ua_1995", "12345KA"),
        ("ua_1995_square", "12345KA"),
        ("ua_moto", "AA1234BB"),
        ("ua_transit", "11KA1234"),
        ("ua_diplomatic", "CDP001"),
        ("ua_diplomatic", "DP012345"),
        ("ua_diplomatic", "S250001"),
        ("pl", "WA12345"),
        ("pl", "KRA1AB2"),
        ("md", "ABC123"),
        ("md", "BLAB123"),
        ("ro", "CJ12ABC"),
        ("ro", "B123ABC"),
        ("sk", "BA123AB"),
        ("sk", "BAAAAAA"),  # on request: the district, then five letters
        ("sk", "BAAAAA1"),  # four letters and a digit
        ("sk", "BAAAA11"),  # three letters and two digits
        ("hu", "ABC123"),
        ("hu", "AAAA123"),
        ("uk", "AB12CDE"),
    ],
)
def test_documented_examples_are_valid(fmt: str, text: str) -> None:
    assert is_valid(text, fmt)


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        ("ua_transit", "28KA1234"),  # region digits run 01-27
        ("ua_transit", "11EA1234"),  # no such region prefix
        ("ua_diplomatic", "DP512345"),  # mission codes run 001-399
        ("ua_diplomatic", "XY012345"),  # no such rank prefix
        ("ua_1995", "12345YA"),  # Y is not a Ukrainian plate letter
        ("pl", "AA12345"),  # A is no voivodeship
        ("md", "ZZAB123"),  # no such district
        ("ro", "XX12ABC"),  # no such county
        ("ro", "CJ12IBC"),  # the letter group never starts with I
        ("sk", "QQAAAAA"),  # on request, after no district
        ("sk", "BAXAAAA"),  # on request, never X or O after the district
        ("sk", "BAAAA10"),  # on request, digits run 1-9
        ("sk", "JANICKO"),  # free text on request (since 2023) would be a catch-all
    ],
)
def test_rule_breaking_texts_are_refused(fmt: str, text: str) -> None:
    assert not is_valid(text, fmt)


def test_regions_name_their_formats_and_refuse_unknown_codes() -> None:
    assert region_formats("ua") == {f for f in FORMATS if f.startswith("ua_")}
    assert region_formats("ua,eu") >= {"ua_2015", "pl", "md", "ro", "sk", "hu", "uk", "eu"}
    assert "us" not in region_formats("ua,eu")
    assert region_formats(" US , br ") == {"us", "us_state", "br"}
    with pytest.raises(UnknownRegion, match="'xx'"):
        region_formats("ua,xx")
    with pytest.raises(UnknownRegion, match="no plate region"):
        region_formats("")


def test_a_slovak_plate_on_request_is_read_as_printed_not_bent_to_another_layout() -> None:
    # `KM BORAK` also fits the British AB12 CDE once B and O are taken for 8 and 0.
    text = "KMBORAK"
    best = resolve([Candidate(text, 0.9, sure(text))], formats=region_formats("ua,eu"))
    assert (best.valid, best.format, best.text) == (True, "sk", text)
    assert not resolve([Candidate(text, 0.9, sure(text))], formats=region_formats("ua")).valid


def test_a_polish_plate_is_a_plate_in_europe_only() -> None:
    text = "WA12345"
    cands = [Candidate(text, 0.9, sure(text))]
    assert not resolve(cands, formats=region_formats("ua")).valid
    best = resolve(cands, formats=region_formats("ua,eu"))
    assert (best.valid, best.format, best.text) == (True, "pl", text)


def test_rows_join_in_the_formats_canonical_order() -> None:
    # A format whose bottom row comes first in its canonical text.
    fmt = PlateFormat(code="x", patterns=("DDDLL",), line_lengths=(2, 3), join_order=(1, 0))
    canonical = fmt.to_canonical("AB123", sure("AB123"))
    assert canonical is not None
    assert canonical[0] == "123AB"
    assert [p[0][0] for p in canonical[1]] == list("123AB")
    assert fmt.lines("123AB") == ("AB", "123")
    assert fmt.to_canonical("AB12") is None
