"""Which plate formats a deployment accepts: region codes, as the ALPR APIs take them.

Like the `regions` parameter of the established ALPR APIs (Plate Recognizer's `regions` with
`mode: strict`, OpenALPR's country), a deployment names its regions and only plates of their
formats are reported (always strict here: there is no catch-all format).

Codes (comma-separated, case-insensitive):
- `ua`: every Ukrainian type (2004 and 2015 series, the 1995 series on one or two rows, square
  two-row plates, motorcycle, trailer, transit and diplomatic plates);
- `eu`: Europe: Poland `pl`, Moldova `md`, Romania `ro`, Slovakia `sk`, Hungary `hu`, Great
  Britain `uk`, plus the generic European band plate;
- `us`, `br`: United States, Brazil (kept for the openalpr benchmark sets);
- a single country of Europe: `pl`, `md`, `ro`, `sk`, `hu`, `uk`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# The marketplace's default: Ukraine plus Europe.
DEFAULT_REGIONS = "ua,eu"
UA_CODES = (
    "ua_2015", "ua_2004", "ua_square", "ua_1995", "ua_1995_square", "ua_moto", "ua_trailer",
    "ua_transit", "ua_diplomatic",
)  # fmt: skip
EU_COUNTRIES = ("pl", "md", "ro", "sk", "hu", "uk")
REGION_FORMATS: Mapping[str, tuple[str, ...]] = {
    "ua": UA_CODES,
    "eu": (*EU_COUNTRIES, "eu"),
    "us": ("us", "us_state"),
    "br": ("br",),
    **{country: (country,) for country in EU_COUNTRIES},
}


class UnknownRegion(ValueError):
    """A region code that names no set of plate formats."""


def region_formats(regions: str | Iterable[str]) -> frozenset[str]:
    """The format codes of `regions` ("ua,eu" or ["ua", "eu"]); raises UnknownRegion."""
    codes = regions.split(",") if isinstance(regions, str) else list(regions)
    codes = [c.strip().lower() for c in codes if c.strip()]
    if not codes:
        raise UnknownRegion("no plate region given; use e.g. 'ua,eu'")
    unknown = [c for c in codes if c not in REGION_FORMATS]
    if unknown:
        raise UnknownRegion(
            f"unknown plate region {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(REGION_FORMATS)}"
        )
    return frozenset(f for c in codes for f in REGION_FORMATS[c])
