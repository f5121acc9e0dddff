"""Plate formats: how often the row split finds a synthetic plate's rows, and how much car text
the format rules take for a plate.

    .venv/bin/python bench/plate_formats.py [--per-format 200] [--seed 15] [--regions ua,eu]

1. Rows: synthetic crops of each plate of several rows (rendered, seen at an angle, degraded,
   straightened with noisy corners: `recognition.synth.crops.seen_crop`); the share whose
   horizontal projection profile shows as many rows as the plate has. When it does not, the
   reader falls back to even cuts.
2. Junk: badge, make, model and dealer words read on car photos; how many the format rules of
   `--regions` accept as a plate (the OCR read them exactly, at 0.95).
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tqdm import tqdm  # noqa: E402

from recognition.pipeline.ocr_input import row_bands  # noqa: E402
from recognition.pipeline.regions import Candidate, region_formats, resolve  # noqa: E402
from recognition.synth.crops import seen_crop  # noqa: E402
from recognition.synth.plates import MULTI_ROW  # noqa: E402

JUNK = (
    "KIA TOYOTA SIENNA LOTOS LEXUS RENAULT HYUNDAI SKODA OCTAVIA AUDI BMW MERCEDES VOLKSWAGEN "
    "PASSAT GOLF TIGUAN CAMRY COROLLA RAV4 LAND CRUISER PRADO NISSAN QASHQAI XTRAIL MAZDA CX5 "
    "HONDA ACCORD CIVIC FORD FOCUS FIESTA MONDEO KUGA OPEL ASTRA VECTRA ZAFIRA PEUGEOT CITROEN "
    "DACIA LOGAN SANDERO DUSTER CHEVROLET AVEO LACETTI DAEWOO LANOS SENS ZAZ VOLVO XC90 SUBARU "
    "FORESTER OUTBACK MITSUBISHI OUTLANDER LANCER JEEP CHEROKEE TESLA MODEL3 SPORTAGE SORENTO "
    "TUCSON SANTAFE ELANTRA SONATA HYBRID DIESEL TURBO QUATTRO 4MATIC XDRIVE TDI TSI GTI AMG "
    "AUTO RIA OLX AUTOSALON DEALER SALE PRODAM KYIV LVIV ODESA DNIPRO KHARKIV WWW AUTO24 V6 V8"
).split()


def rows_found(per_format: int, seed: int) -> None:
    for fmt in MULTI_ROW:
        rng = random.Random(seed)
        found = 0
        for _ in tqdm(range(per_format), desc=fmt, unit="crop", leave=False):
            crop, plate = seen_crop(fmt, rng)
            found += len(row_bands(crop)) == len(plate.lines)
        print(f"rows found  {fmt:15s} {found}/{per_format} = {found / per_format:.3f}")  # noqa: T201


def junk_accepted(regions: str) -> None:
    formats = region_formats(regions)
    accepted = []
    for word in JUNK:
        best = resolve([Candidate(word, 0.95, tuple(((c, 0.95),) for c in word))], None, formats)
        if best.valid:
            accepted.append(f"{word}->{best.text}({best.format})")
    print(f"junk words taken for plates (regions {regions}): {len(accepted)}/{len(JUNK)}")  # noqa: T201
    if accepted:
        print("  " + ", ".join(accepted))  # noqa: T201


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-format", type=int, default=200)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--regions", default="ua,eu")
    args = parser.parse_args()
    rows_found(args.per_format, args.seed)
    junk_accepted(args.regions)
    junk_accepted("ua,eu,us,br")


if __name__ == "__main__":
    main()
