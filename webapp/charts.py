"""Small server-side SVG charts for the staff pages (dashboard, partners, sites): no JavaScript,
no CDN, printable.

Each function returns a complete ``<svg>`` element as a string (labels are escaped); templates
insert it with ``|safe``. Colours come from CSS classes in ``review/review.css``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

Formatter = Callable[[float], str]


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    css_class: str = "s1"
    dots: bool = True  # a dot with its value's tooltip at each point; False: the line alone


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    note: str = ""


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 or value == int(value) else f"{value:.1f}"


def percent(value: float) -> str:
    return f"{value * 100:.0f}%"


def _nice_max(value: float) -> float:
    """Round an axis maximum up to 1, 2 or 5 times a power of ten."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value:
            return float(candidate)
    return float(10 ** (exponent + 1))


def _axis(peak: float, *, integer: bool) -> tuple[float, float]:
    """(top, step) of a y axis with 2 to 5 round steps; whole steps for counts."""
    step = _nice_max(peak / 4) if peak > 0 else 1.0
    if integer:
        step = max(1.0, round(step))
    return max(step, math.ceil(peak / step) * step), step


def line_chart(
    *,
    labels: Sequence[str],
    series: Sequence[Series],
    title: str,
    width: int = 1100,
    height: int = 260,
    y_format: Formatter = _number,
    integer: bool = True,
    ticks: Sequence[int] | None = None,
) -> str:
    """Lines over a shared x axis of ``labels`` (e.g. days); ``None`` values leave a gap. The x
    axis names about ten labels, or those at the indices ``ticks`` (hours: each midnight)."""
    left, right, top, bottom = 56, 28, 28, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((v for s in series for v in s.values if v is not None), default=0.0)
    top_value, step_value = _axis(peak, integer=integer)
    n = max(len(labels), 1)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h - plot_h * min(v, top_value) / top_value

    parts = [_open(width, height, title)]
    parts.append(f'<text class="chart-title" x="{left}" y="16">{escape(title)}</text>')
    for k in range(round(top_value / step_value) + 1):
        value = step_value * k
        yy = y(value)
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{yy:.1f}" y2="{yy:.1f}"/>'
        )
        parts.append(_tick(left - 6, yy + 4, y_format(value), "end"))
    step = max(1, math.ceil(n / 10))
    named = (
        set(ticks) if ticks is not None else {i for i in range(n) if i % step == 0 or i == n - 1}
    )
    for i, label in enumerate(labels):
        if i in named:
            parts.append(_tick(x(i), height - bottom + 16, label, "middle"))
    for s in series:
        parts.extend(_line(s, x, y))
    parts.extend(_legend(series, left, height - 6))
    parts.append("</svg>")
    return "".join(parts)


def _line(s: Series, x: Callable[[int], float], y: Callable[[float], float]) -> list[str]:
    out: list[str] = []
    run: list[str] = []
    for i, value in enumerate(s.values):
        if value is None:
            if run:
                out.append(f'<polyline class="line {s.css_class}" points="{" ".join(run)}"/>')
            run = []
            continue
        run.append(f"{x(i):.1f},{y(value):.1f}")
        if s.dots:
            out.append(
                f'<circle class="dot {s.css_class}" cx="{x(i):.1f}" cy="{y(value):.1f}" r="2.5">'
                f"<title>{escape(s.name)}: {escape(_number(value))}</title></circle>"
            )
    if run:
        out.append(f'<polyline class="line {s.css_class}" points="{" ".join(run)}"/>')
    return out


def _legend(series: Sequence[Series], x0: int, y0: int) -> list[str]:
    out: list[str] = []
    x = x0
    for s in series:
        out.append(
            f'<rect class="swatch {s.css_class}" x="{x}" y="{y0 - 9}" width="10" height="10"/>'
        )
        out.append(f'<text class="legend" x="{x + 14}" y="{y0}">{escape(s.name)}</text>')
        x += 24 + 7 * len(s.name)
    return out


def bar_chart(
    *,
    bars: Sequence[Bar],
    title: str,
    width: int = 540,
    value_format: Formatter = percent,
    max_value: float | None = None,
    css_class: str = "s2",
) -> str:
    """Horizontal bars, one row per label, with the value and an optional note at the end."""
    row_h, top, label_w, value_w = 22, 28, 170, 130
    height = top + row_h * max(len(bars), 1) + 8
    plot_w = width - label_w - value_w
    top_value = (
        max_value if max_value is not None else _nice_max(max((b.value for b in bars), default=0))
    )
    parts = [_open(width, height, title)]
    parts.append(f'<text class="chart-title" x="0" y="16">{escape(title)}</text>')
    if not bars:
        parts.append(f'<text class="tick" x="0" y="{top + 14}">no decisions yet</text>')
    for i, bar in enumerate(bars):
        yy = top + i * row_h
        bar_w = plot_w * min(bar.value, top_value) / top_value if top_value else 0
        box = f'x="{label_w}" y="{yy + 3}" height="{row_h - 6}"'
        parts.append(_tick(label_w - 8, yy + 15, bar.label, "end"))
        parts.append(f'<rect class="track" {box} width="{plot_w}"/>')
        parts.append(
            f'<rect class="bar {css_class}" {box} width="{bar_w:.1f}">'
            f"<title>{escape(bar.label)}: {escape(value_format(bar.value))}</title></rect>"
        )
        text = value_format(bar.value) + (f"  {bar.note}" if bar.note else "")
        parts.append(_tick(label_w + plot_w + 8, yy + 15, text))
    parts.append("</svg>")
    return "".join(parts)


def _tick(x: float, y: float, text: str, anchor: str = "start") -> str:
    return (
        f'<text class="tick" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{escape(text)}</text>'
    )


def _open(width: int, height: int, title: str) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
    )
