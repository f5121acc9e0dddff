"""How a straightened plate crop becomes the reader's input lines (training and inference)."""

from __future__ import annotations

import cv2
import numpy as np

# Model input size (height, width) of one text line; every line is stretched to it.
LINE_H, LINE_W = 48, 160
# Where a straightened two-line plate is cut into its lines (fraction of height), with a small
# overlap so a slightly misplaced crop keeps whole characters.
SQUARE_SPLIT = 0.5
SQUARE_OVERLAP = 0.06


def split_lines(crop: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Top and bottom line of a straightened two-line plate."""
    h = crop.shape[0]
    cut_top = int(round(h * (SQUARE_SPLIT + SQUARE_OVERLAP)))
    cut_bottom = int(round(h * (SQUARE_SPLIT - SQUARE_OVERLAP)))
    return crop[:cut_top], crop[cut_bottom:]


def to_line_input(line: np.ndarray) -> np.ndarray:
    """Grey line image at the model's input size (uint8 LINE_H x LINE_W)."""
    grey = cv2.cvtColor(line, cv2.COLOR_RGB2GRAY) if line.ndim == 3 else line
    interp = cv2.INTER_AREA if grey.shape[1] > LINE_W else cv2.INTER_CUBIC
    return cv2.resize(grey, (LINE_W, LINE_H), interpolation=interp)
