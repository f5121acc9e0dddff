"""What a straightened crop says about its plate format before any text is read.

Colour is cheap and telling: the 2015 Ukrainian and EU plates carry a blue band at the left
(the Ukrainian one with a yellow-and-blue flag), Mercosul plates a blue band along the top, old
Brazilian plates a grey background. A square crop holds a two-line plate (or a US one, which
rectify also sends to the square size). The hint only weighs formats; the text decides.
"""

from __future__ import annotations

import cv2
import numpy as np

from recognition.pipeline.rectify import RED_SHARE, SQUARE_ASPECT, red_mask
from recognition.pipeline.regions import FormatHint

# Share of strong-blue pixels that marks a band in its strip.
BAND_SHARE = 0.25
# Share of yellow pixels in the left band that marks the Ukrainian flag.
FLAG_SHARE = 0.04
# The band is sought in strips BAND_WIDTH of the crop wide, starting within BAND_REACH of its
# left edge, and is no band where its run of blue columns is wider than BAND_RUN (SQUARE_BAND_RUN
# on a square crop, whose band is wider) or blue goes on right of it: that is the car's body.
# Measured on the detector's straightened crops of 30 train photos a Ukrainian type: a strip at
# the crop's edge saw the band on 57 % of the 2015 and 2004 plates (the crop runs onto the car),
# the strip sought 97 %; on the real train photos' 2,559 detector crops the band rate moved from
# 0.30 to 0.37 on EU plates, 0.09 to 0.10 on US plates, 0.05 on the rest (not plates), and no
# crop but a Ukrainian one showed the flag.
BAND_WIDTH = 0.09
BAND_REACH = 0.3
BAND_RUN = 0.13
SQUARE_BAND_RUN = 0.3
BLUE = ((95, 90, 40), (135, 255, 255))
YELLOW = ((15, 90, 90), (38, 255, 255))
# Prior of the European formats (Moldova's aside) on a band with a flag in it: a Ukrainian plate
# read with one character dropped or mistaken can be a neighbour's valid plate (on the train
# split, the 1995 plate 15970IE read as the Slovak IS970IE).
FLAG_EU_PRIOR = 0.4
# RED_SHARE (in rectify, which also finds a red plate's ends by it) is the share of red pixels on
# the plate, its outer tenth left out, that marks a red background, not red ink as on some US
# plates. Measured on straightened crops (`synth.crops.seen_crop`, 60 a format, and the real
# train crops of `load_real_crops`): white-on-red plates 0.81-0.83 median, 97-100 % above 0.4;
# every other synthetic format, and 1,927 of the 1,928 real crops, below 0.33 (the one above is
# a red Brazilian commercial plate). The earlier strips above and below the characters missed
# 7-13 % of red plates: a crop cut at a slant puts the car behind them.
# Prior of the red Ukrainian formats on a plate that is not red.
NOT_RED_PRIOR = 0.3


def _mask(hsv: np.ndarray, lo: tuple[int, int, int], hi: tuple[int, int, int]) -> np.ndarray:
    return cv2.inRange(hsv, np.array(lo, np.uint8), np.array(hi, np.uint8))


def _share(hsv: np.ndarray, lo: tuple[int, int, int], hi: tuple[int, int, int]) -> float:
    if hsv.size == 0:
        return 0.0
    mask = _mask(hsv, lo, hi)
    return float(np.count_nonzero(mask)) / mask.size


def colour_features(crop: np.ndarray) -> dict[str, float]:
    """Band and background colour shares of an RGB crop."""
    h, w = crop.shape[:2]
    hsv = cv2.cvtColor(crop, cv2.COLOR_RGB2HSV)
    square = w / max(h, 1) < SQUARE_ASPECT
    # The band of a square plate spans only its top line.
    rows = slice(int(0.1 * h), int((0.5 if square else 0.9) * h))
    blue_left, yellow_left = _left_band(hsv[rows], w, square)
    top = hsv[int(0.03 * h) : max(int(0.2 * h), 2), int(0.2 * w) : int(0.8 * w)]
    middle = hsv[int(0.3 * h) : int(0.7 * h), int(0.2 * w) : int(0.8 * w)]
    return {
        "aspect": w / max(h, 1),
        "blue_left": blue_left,
        "yellow_left": yellow_left,
        "blue_top": _share(top, *BLUE),
        "grey": float(np.median(middle[..., 1]) < 40 and 90 < np.median(middle[..., 2]) < 215)
        if middle.size
        else 0.0,
        # Transit and diplomatic Ukrainian plates are white on red: their background shows
        # between and around the characters.
        "red": _red_share(hsv[int(0.1 * h) : max(int(0.9 * h), 2), int(0.05 * w) : int(0.95 * w)]),
    }


def _left_band(rows: np.ndarray, w: int, square: bool) -> tuple[float, float]:
    """Blue and yellow shares of the bluest band-wide strip near the crop's left end.

    The crop reaches past the plate's ends (rectify extends a plate to its format's length), so
    the band starts anywhere in the first `BAND_REACH` of the width, not at the crop's edge. A
    strip in a run of blue columns wider than a band, or with blue going on right of it, is the
    car's body, not a band.
    """
    width = max(int(BAND_WIDTH * w), 2)
    # Columns past the last strip's right neighbour decide nothing: a blue run that reaches them
    # is wider than a band.
    rows = rows[:, : int(BAND_REACH * w) + 2 * width + 1]
    if rows.size == 0:
        return 0.0, 0.0
    blue = _mask(rows, *BLUE).mean(axis=0) / 255  # share of each column
    yellow = _mask(rows, *YELLOW).mean(axis=0) / 255
    blue_cols = blue > 0.5  # more than half the column blue
    widest = int((SQUARE_BAND_RUN if square else BAND_RUN) * w)
    starts = np.arange(int(0.01 * w), int(BAND_REACH * w) + 1, max(w // 64, 1))
    shares = _window_means(blue, starts, width)
    ok = (shares > 0) & (_window_means(blue, starts + width, width) <= BAND_SHARE)
    for k in np.argsort(-shares, kind="stable"):  # bluest first, the leftmost of equals
        if ok[k] and _run_width(blue_cols, starts[k], starts[k] + width) <= widest:
            return float(shares[k]), float(_window_means(yellow, starts[k : k + 1], width)[0])
    return 0.0, 0.0


def _window_means(values: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """Mean of `values[x : x + width]` for each start x (cut at the end; 0 where empty)."""
    total = np.concatenate([[0.0], np.cumsum(values)])
    lo = np.minimum(starts, values.size)
    hi = np.minimum(starts + width, values.size)
    return np.where(hi > lo, (total[hi] - total[lo]) / np.maximum(hi - lo, 1), 0.0)


def _run_width(blue_cols: np.ndarray, start: int, end: int) -> int:
    """Width of the run of blue columns that holds the blue ones from `start` to `end` (0 if
    none is blue)."""
    inside = np.flatnonzero(blue_cols[start:end])
    if inside.size == 0:
        return 0
    gaps = np.flatnonzero(~blue_cols)
    first, last = start + inside[0], start + inside[-1]
    left = gaps[gaps < first]
    right = gaps[gaps > last]
    return int((right[0] if right.size else blue_cols.size) - (left[-1] + 1 if left.size else 0))


def _red_share(hsv: np.ndarray) -> float:
    return float(red_mask(hsv).mean()) if hsv.size else 0.0


# European countries' own formats weigh like the generic European one; the Ukrainian types that
# share a band weigh like the plate they look like. A trailer plate is a car plate's subset and
# ranks just below it, so the same text is reported as the car format.
_EU_COUNTRIES = ("pl", "sk", "ro", "md", "hu", "uk")


def _complete(priors: dict[str, float]) -> dict[str, float]:
    out = dict(priors)
    for code in _EU_COUNTRIES:
        out.setdefault(code, priors["eu"])
    car = min(priors["ua_2015"], priors["ua_2004"])
    out.setdefault("ua_trailer", 0.9 * car)
    out.setdefault("ua_1995", priors["ua_2004"])
    out.setdefault("ua_1995_square", priors["ua_square"])
    out.setdefault("ua_moto", priors["ua_square"])
    for code in ("ua_transit", "ua_diplomatic"):  # white on red: unlikely on any other plate
        out.setdefault(code, NOT_RED_PRIOR)
    # Another state's serial is as likely as the listed states' on the same crop: with a lower
    # prior, a real serial as read lost to a strict layout reached by two look-alike fixes
    # (WD2R9B -> WDZR98): 94 of 817 US train crops. STATE_SERIAL_FACTOR still ranks it below a
    # strict reading that fits as read or with the OCR's own sure runner-up.
    out.setdefault("us_state", priors["us"])
    return out


def format_hint(crop: np.ndarray) -> FormatHint:
    f = colour_features(crop)
    two_line = f["aspect"] < SQUARE_ASPECT
    if f["red"] > RED_SHARE:
        priors = {
            "ua_transit": 1.0,
            "ua_diplomatic": 1.0,
            "ua_2015": 0.4,
            "ua_2004": 0.4,
            "ua_square": 0.4,
            "eu": 0.4,
            "us": 0.3,
            "br": 0.3,
        }
    elif f["blue_left"] > BAND_SHARE:
        ua = f["yellow_left"] > FLAG_SHARE
        priors = {
            "ua_2015": 1.0,
            "ua_square": 1.0,
            "eu": FLAG_EU_PRIOR if ua else 0.95,
            "ua_2004": 0.5,
            "us": 0.3,
            "br": 0.4,
        }
        if ua:  # Moldova's band holds a flag with yellow in it too
            priors["md"] = 0.95
    elif f["blue_top"] > BAND_SHARE:
        priors = {"br": 1.0, "us": 0.6, "eu": 0.5, "ua_2004": 0.5, "ua_2015": 0.5, "ua_square": 0.5}
    elif f["grey"]:
        priors = {"br": 1.0, "us": 0.7, "ua_2004": 0.7, "eu": 0.6, "ua_2015": 0.5, "ua_square": 0.6}
    else:
        priors = {
            "ua_2004": 0.9,
            "ua_square": 0.9,
            "us": 0.8,
            "br": 0.75,
            "eu": 0.7,
            "ua_2015": 0.6,
        }
    return FormatHint(priors=_complete(priors), two_line=two_line)
