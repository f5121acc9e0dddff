from __future__ import annotations

import numpy as np
import pytest

from recognition.pipeline.regions import (
    FORMATS,
    Candidate,
    FormatHint,
    fix_text,
    is_valid,
    normalise_plate,
    resolve,
    to_cyrillic,
    to_latin,
)
from recognition.pipeline.regions.ukraine import UA_REGIONS
from recognition.synth.plates import UA_REGIONS as RENDERED_UA_REGIONS


def sure(text: str, p: float = 0.99) -> tuple[tuple[tuple[str, float], ...], ...]:
    return tuple(((ch, p),) for ch in text)


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        ("ua_2015", "AA1234BB"),
        ("ua_2004", "KA0001XX"),
        ("ua_square", "BC7788HI"),
        ("eu", "BA123XY"),
        ("eu", "1AB2345"),
        ("us", "7ABC123"),
        ("us", "ABC1234"),
        ("br", "ABC1234"),
        ("br", "ABC1D23"),
    ],
)
def test_valid_plates_pass_their_format_unchanged(fmt: str, text: str) -> None:
    assert is_valid(text, fmt)
    assert fix_text(text, fmt) == text


@pytest.mark.parametrize(
    ("fmt", "read", "fixed"),
    [
        ("ua_2015", "AA12O4BB", "AA1204BB"),  # O in a digit slot
        ("ua_2015", "AAI2S4BB", "AA1254BB"),  # I and S in digit slots
        ("ua_2004", "A81234B8", "AB1234BB"),  # 8 in letter slots
        ("ua_square", "KA1Z34XX", "KA1234XX"),  # Z in a digit slot
        ("br", "ABCQ234", "ABC0234"),
        ("br", "A8C1234", "ABC1234"),
        ("br", "0BC1D23", "OBC1D23"),
        ("eu", "BA1Z3XY", "BA123XY"),
    ],
)
def test_lookalikes_in_the_wrong_slot_are_fixed(fmt: str, read: str, fixed: str) -> None:
    assert not is_valid(read, fmt)
    assert fix_text(read, fmt) == fixed


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        ("ua_2015", "AA1234"),  # too short
        ("ua_2015", "AA1234BY"),  # Y is not a Ukrainian plate letter
        ("ua_2015", "EA1234BB"),  # no such region prefix
        ("ua_2004", "AAA234BB"),  # A has no digit look-alike
        ("br", "ABCD1234"),
        ("eu", "12"),
        ("us", "ABCDEFGHJ"),  # longer than any US plate
    ],
)
def test_unfixable_text_is_refused(fmt: str, text: str) -> None:
    assert not is_valid(text, fmt)
    assert fix_text(text, fmt) is None


def test_us_vanity_text_is_no_longer_a_catch_all() -> None:
    # The loose vanity patterns (any 2-8 characters) made badges and model names into US plates;
    # they are gone: free text is not a US plate, a standard serial still is after fixes.
    assert not is_valid("GOBRUIN", "us")
    assert fix_text("GOBRUIN", "us") is None
    assert fix_text("7A8C1Z3", "us") == "7ABC123"


def test_us_runner_up_moves_a_reading_to_a_standard_serial() -> None:
    probs = *sure("7ABC12"), (("Z", 0.49), ("3", 0.48))
    best = resolve([Candidate("7ABC12Z", 0.5, probs)], FormatHint({"us": 1.0}))
    assert best.text == "7ABC123"


def test_the_region_list_matches_the_renderer() -> None:
    assert set(RENDERED_UA_REGIONS) == UA_REGIONS


def test_an_uncertain_prefix_letter_moves_to_the_closest_valid_prefix() -> None:
    # given a reading whose first letter is unsure and makes an invalid region prefix
    probs = (("E", 0.55), ("B", 0.3), ("C", 0.1)), *sure("A1234BB")
    # when
    best = resolve([Candidate("EA1234BB", 0.5, probs)], FormatHint({"ua_2015": 1.0}))
    # then the OCR's own runner-up gives the valid prefix
    assert best.text == "BA1234BB"
    assert best.valid
    assert best.char_confidences[0] == pytest.approx(0.3)


def test_a_sure_invalid_prefix_is_not_rewritten() -> None:
    best = resolve([Candidate("EA1234BB", 0.9, sure("EA1234BB"))], FormatHint({"ua_2015": 1.0}))
    assert best.format != "ua_2015"


def test_valid_format_ranks_before_a_more_confident_invalid_reading() -> None:
    candidates = [
        Candidate("AA1234B", 0.9, sure("AA1234B")),  # one character lost: fits no UA format
        Candidate("AA1234BB", 0.6, sure("AA1234BB")),
    ]
    best = resolve(candidates, FormatHint({"ua_2015": 1.0, "eu": 0.5, "us": 0.3}))
    assert (best.text, best.format) == ("AA1234BB", "ua_2015")
    assert len(best.alternatives) <= 3
    assert "AA1234B" in [a.text for a in best.alternatives]


def test_two_line_hint_selects_the_square_format_and_splits_lines() -> None:
    best = resolve([Candidate("AB1234CE", 0.9, sure("AB1234CE"))], FormatHint({}, two_line=True))
    assert best.format == "ua_square"
    assert FORMATS["ua_square"].lines(best.text) == ("AB", "1234CE")


def test_text_that_fits_nothing_is_kept_as_unknown() -> None:
    best = resolve([Candidate("#?", 0.8)])
    assert best.format == "unknown"
    assert not best.valid


def test_no_candidates_give_an_empty_reading() -> None:
    assert resolve([]).text == ""


@pytest.mark.parametrize("latin", ["AA1234BB", "KI0007XT", "BC5555HM", "IO1234PE"])
def test_cyrillic_round_trip(latin: str) -> None:
    cyr = to_cyrillic(latin)
    assert cyr != latin
    assert not any("A" <= ch <= "Z" for ch in cyr)
    assert to_latin(cyr) == latin
    assert normalise_plate(cyr[:2] + " " + cyr[2:6] + "-" + cyr[6:]) == latin


def test_register_style_cyrillic_input_is_read_as_latin() -> None:
    assert is_valid(normalise_plate("АХ1312КК"), "ua_2015")


def test_another_states_serial_is_a_us_plate_but_a_word_never_is() -> None:
    from recognition.pipeline.regions import is_valid

    # a serial of a layout the strict patterns do not list, with the US region on
    assert is_valid("7XYZ12A", "us_state")
    # words, with or without the look-alikes a badge may carry, are not plates
    for word in ("TOYOTA", "SIENNA", "LOTOS", "KIA", "CAMRY"):
        assert not is_valid(word, "us_state")
        assert not is_valid(word, "us")


def test_a_strict_serial_beats_the_fallback_for_the_same_text() -> None:
    from recognition.pipeline.regions import Candidate, FormatHint, resolve
    from recognition.pipeline.regions.regions import region_formats

    resolved = resolve([Candidate("ABC1234", 0.9)], FormatHint(), region_formats("us"))
    assert (resolved.text, resolved.format) == ("ABC1234", "us")


def test_a_serial_as_read_beats_a_strict_layout_reached_by_look_alike_fixes() -> None:
    """WD2R9B is another state's serial; bending it to LLLLDD (2 -> Z, B -> 8) misreads it."""
    from recognition.pipeline.format_hint import format_hint
    from recognition.pipeline.regions import Candidate, resolve
    from recognition.pipeline.regions.regions import region_formats

    white = np.full((40, 160, 3), 235, dtype=np.uint8)  # a plain crop: no band, not grey
    hint = format_hint(white)
    assert hint.priors["us_state"] == hint.priors["us"]
    text = "WD2R9B"
    probs = tuple(((ch, 0.99), ("Z" if ch == "2" else "8", 0.005)) for ch in text)
    resolved = resolve([Candidate(text, 0.95, probs)], hint, region_formats("us"))
    assert (resolved.text, resolved.format) == ("WD2R9B", "us_state")
    assert "WDZR98" in [alt.text for alt in resolved.alternatives]
