"""Reading listings to ingest from a folder or a CSV file (pure: no database access).

CSV columns: marketplace_id, declared_make, declared_model, declared_colour, declared_year,
declared_plate, declared_vin, photos (paths separated by `;`, relative to the CSV's folder).
A folder holds either `listings.csv`, or one sub-folder per listing named by its marketplace id
with its photos and an optional `listing.json` of declared fields.

Ingesting a listing again (the marketplace's next export) sets the declared fields the source
names (a CSV's columns, a `listing.json`'s keys) to what it now says, an empty value included;
a field the source does not name is left as it is. Its photos new to the listing are added;
with `ingest_listings --prune`, the photos the source no longer lists are taken off (a CSV
without a `photos` column names none, so none go).

A photo's path, and the file a link leads to, must lie in the export's folder.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from webapp.listings.models import Listing
from webapp.listings.services import DECLARED_FIELDS, ListingDeclared

PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp"})
CSV_NAME = "listings.csv"
# The partner API's bounds for a model year; the column itself would take up to 32767.
YEAR_MIN, YEAR_MAX = 1900, 2100
_TEXT_FIELDS = ("marketplace_id", "declared_make", "declared_model", "declared_colour",
                "declared_plate", "declared_vin")  # fmt: skip


@dataclass(frozen=True)
class ListingToIngest:
    marketplace_id: str
    declared: ListingDeclared
    photos: tuple[Path, ...] = field(default_factory=tuple)
    named: frozenset[str] = frozenset()  # the DECLARED_FIELDS the source gives a value for
    photos_named: bool = True  # False: the source has no word on the listing's photos

    def declared_changes(self) -> dict[str, object]:
        """What the source says of the fields it names, as `listing_declared_update` takes it."""
        values = {
            "declared_make": self.declared.make,
            "declared_model": self.declared.model,
            "declared_colour": self.declared.colour,
            "declared_year": self.declared.year,
            "declared_plate": self.declared.plate,
            "declared_vin": self.declared.vin,
        }
        return {name: values[name] for name in DECLARED_FIELDS if name in self.named}


def listings_read(source: Path) -> list[ListingToIngest]:
    if source.is_file():
        return listings_from_csv(source)
    if (source / CSV_NAME).is_file():
        return listings_from_csv(source / CSV_NAME)
    return listings_from_folders(source)


def _fields(row: dict[str, str], where: str) -> tuple[str, ListingDeclared]:
    """The marketplace id and declared fields of one row; a value the listing table cannot hold
    raises (with `where`), so a bad row stops the ingest before any listing is written."""
    text = {name: (row.get(name) or "").strip() for name in _TEXT_FIELDS}
    for name, value in text.items():
        limit = Listing._meta.get_field(name).max_length
        if limit is not None and len(value) > limit:
            raise ValueError(f"{where}: {name} is longer than {limit} characters")
    if not text["marketplace_id"]:
        raise ValueError(f"{where}: marketplace_id is empty")
    year = (row.get("declared_year") or "").strip()
    if year and not (year.isdigit() and YEAR_MIN <= int(year) <= YEAR_MAX):
        raise ValueError(f"{where}: declared_year {year!r} is not a year {YEAR_MIN}-{YEAR_MAX}")
    declared = ListingDeclared(
        make=text["declared_make"],
        model=text["declared_model"],
        colour=text["declared_colour"],
        year=int(year) if year else None,
        plate=text["declared_plate"],
        vin=text["declared_vin"],
    )
    return text["marketplace_id"], declared


def _inside(root: Path, photo: Path, where: str) -> Path:
    """The photo's real path, which must lie in the export's folder: a path or a link that
    leads out of it (`../other-partner/photo.jpg`, `/etc/...`) stops the ingest, as a bad row
    does, so an export cannot make the server read another partner's photos or its own files."""
    real = photo.resolve()
    if not real.is_relative_to(root.resolve()):
        raise ValueError(f"{where}: photo {str(photo)!r} lies outside the export's folder {root}")
    return real


def _csv_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """The CSV's columns and rows; a file that is not UTF-8, not CSV, or has no marketplace_id
    column raises with what to do about it, before any listing is written."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path}: not UTF-8 text (byte {exc.start} is 0x{exc.object[exc.start]:02x}); "
            "export it as UTF-8"
        ) from None
    except csv.Error as exc:
        raise ValueError(f"{path}:{reader.reader.line_num}: not CSV ({exc})") from None
    columns = list(reader.fieldnames or ())
    if "marketplace_id" not in columns:
        found = ", ".join(columns) if columns else "none: the file is empty"
        raise ValueError(f"{path}: no marketplace_id column (its columns: {found})")
    return columns, rows


def listings_from_csv(path: Path) -> list[ListingToIngest]:
    columns, rows = _csv_rows(path)
    named = frozenset(DECLARED_FIELDS) & set(columns)
    listings = []
    for number, row in enumerate(rows, start=2):
        where = f"{path}:{number}"
        marketplace_id, declared = _fields(row, where)
        photos = tuple(
            _inside(path.parent, path.parent / item.strip(), where)
            for item in (row.get("photos") or "").split(";")
            if item.strip()
        )
        listings.append(
            ListingToIngest(marketplace_id, declared, photos, named, "photos" in columns)
        )
    return listings


def _json_object(path: Path) -> dict[str, object]:
    try:
        row = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}:{exc.lineno}: not JSON ({exc.msg})") from None
    if not isinstance(row, dict):
        raise ValueError(f"{path}: not a JSON object")
    return row


def listings_from_folders(root: Path) -> list[ListingToIngest]:
    listings = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        meta = folder / "listing.json"
        row = _json_object(meta) if meta.is_file() else {}
        photos = tuple(
            sorted(
                _inside(root, p, str(folder))
                for p in folder.iterdir()
                if p.suffix.lower() in PHOTO_SUFFIXES
            )
        )
        fields = {
            "marketplace_id": folder.name,
            **{k: str(v) for k, v in row.items() if v is not None},
        }
        marketplace_id, declared = _fields(fields, str(meta if meta.is_file() else folder))
        named = frozenset(DECLARED_FIELDS) & set(row)
        listings.append(ListingToIngest(marketplace_id, declared, photos, named))
    return listings
