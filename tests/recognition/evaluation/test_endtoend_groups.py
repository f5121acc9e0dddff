"""The groups an end-to-end case counts in: its set, subgroup, two-row, unseen, width band."""

from __future__ import annotations

import numpy as np
import pytest

from recognition.evaluation.endtoend import Case


def _case(width: float | None, *, rows: int = 1, group: str = "ua_types/ua_2015") -> Case:
    box = None if width is None else np.array([40.0, 50.0, 40.0 + width, 80.0], np.float32)
    return Case(np.zeros((8, 8, 3), np.uint8), box, "AA1234BB", group, rows=rows)


@pytest.mark.parametrize(
    ("width", "band"),
    [(66.0, "px0-100"), (99.9, "px0-100"), (100.0, "px100-170"), (169.5, "px100-170"),
     (170.0, "px170+"), (640.0, "px170+")],
)  # fmt: skip
def test_a_one_row_plate_counts_in_the_band_of_its_width(width: float, band: str) -> None:
    # given a one-row plate `width` px wide in the photo
    case = _case(width)
    # then it counts in its set, its type and exactly one width band of its set
    keys = case.keys()
    assert keys[:2] == ("ua_types", "ua_types/ua_2015")
    assert [k for k in keys if "/px" in k] == [f"ua_types/{band}"]


def test_plates_of_several_rows_and_text_only_labels_have_no_width_band() -> None:
    # given a two-row plate with a box, and a photo labelled by its text only (ua_parking_val)
    square = _case(80.0, rows=2)
    text_only = _case(None, group="ua_parking/ua")
    # then neither counts in a width band; the square one counts as two-row
    assert square.keys() == ("ua_types", "ua_types/ua_2015", "ua_types/two-row")
    assert text_only.keys() == ("ua_parking", "ua_parking/ua")
