"""Reading listings to ingest from a folder or a CSV file (pure: no database access).

CSV columns: marketplace_id, declared_make, declared_model, declared_colour, declared_year,
declared_plate, declared_vin, photos (paths separated by `;`, relative to the CSV's folder).
A folder holds either `listings.csv`, or one sub-folder per listing named by its marketplace id
with its photos and an optional `listing.json` of declared fields.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from webapp.listings.services import ListingDeclared

PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp"})
CSV_NAME = "listings.csv"


@dataclass(frozen=True)
class ListingToIngest:
    marketplace_id: str
    declared: ListingDeclared
    photos: tuple[Path, ...] = field(default_factory=tuple)


def listings_read(source: Path) -> list[ListingToIngest]:
    if source.is_file():
        return listings_from_csv(source)
    if (source / CSV_NAME).is_file():
        return listings_from_csv(source / CSV_NAME)
    return listings_from_folders(source)


def _declared(row: dict[str, str]) -> ListingDeclared:
    year = (row.get("declared_year") or "").strip()
    return ListingDeclared(
        make=(row.get("declared_make") or "").strip(),
        model=(row.get("declared_model") or "").strip(),
        colour=(row.get("declared_colour") or "").strip(),
        year=int(year) if year else None,
        plate=(row.get("declared_plate") or "").strip(),
        vin=(row.get("declared_vin") or "").strip(),
    )


def listings_from_csv(path: Path) -> list[ListingToIngest]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    listings = []
    for number, row in enumerate(rows, start=2):
        marketplace_id = (row.get("marketplace_id") or "").strip()
        if not marketplace_id:
            raise ValueError(f"{path}:{number}: marketplace_id is empty")
        photos = tuple(
            (path.parent / item.strip()).resolve()
            for item in (row.get("photos") or "").split(";")
            if item.strip()
        )
        listings.append(ListingToIngest(marketplace_id, _declared(row), photos))
    return listings


def listings_from_folders(root: Path) -> list[ListingToIngest]:
    listings = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        meta = folder / "listing.json"
        row = json.loads(meta.read_text(encoding="utf-8")) if meta.is_file() else {}
        photos = tuple(sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES))
        declared = _declared({k: str(v) for k, v in row.items() if v is not None})
        listings.append(ListingToIngest(row.get("marketplace_id", folder.name), declared, photos))
    return listings
