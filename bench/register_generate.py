"""Write realistic synthetic register files in the real open-data format.

One file per date format (2013-2020 ``YYYY-MM-DD`` without VIN, 2021-22 ``DD.MM.YYYY``,
2023+ ``DD.MM.YY``), each with ``--rows`` rows: plates reused by later cars, cars with several
operations (first registration, changes of owner), and ``--malformed`` of rows broken the ways
real files break (column count, dates, quotes, encoding).

    .venv/bin/python bench/register_generate.py --rows 2500000 --out var/bench/register
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from pathlib import Path

HEADER_2021 = (
    "PERSON;REG_ADDR_KOATUU;OPER_CODE;OPER_NAME;D_REG;DEP_CODE;DEP;BRAND;MODEL;VIN;MAKE_YEAR;"
    "COLOR;KIND;BODY;PURPOSE;FUEL;CAPACITY;OWN_WEIGHT;TOTAL_WEIGHT;N_REG_NEW"
)
HEADER_2013 = HEADER_2021.replace("VIN;", "")
FORMATS = {
    "iso": ("2016", HEADER_2013, False),
    "dmy4": ("2021", HEADER_2021, True),
    "dmy2": ("2024", HEADER_2021, True),
}
REGIONS = (
    "АА АВ АС АЕ АН АІ АК АМ АО АР АТ АХ ВА ВВ ВС ВЕ ВН ВІ ВК ВМ ВО ВТ ВХ СА СВ СЕ КА КЕ НА ХА"
).split()
SERIES = "АВЕІКМНОРСТХ"
CARS = [
    # brand, model, capacity, body, fuel, weight; a few brands hold the model (TESLA MODEL X)
    ("VOLKSWAGEN", "PASSAT", 1968, "УНІВЕРСАЛ", "ДИЗЕЛЬНЕ ПАЛИВО", 1500, 20),
    ("VOLKSWAGEN", "GOLF", 1395, "ХЕТЧБЕК", "БЕНЗИН", 1250, 15),
    ("TOYOTA", "CAMRY", 2494, "СЕДАН", "БЕНЗИН", 1550, 12),
    ("TOYOTA", "RAV 4", 1987, "УНІВЕРСАЛ", "БЕНЗИН", 1600, 10),
    ("SKODA", "OCTAVIA", 1395, "ЛІФТБЕК", "БЕНЗИН", 1300, 18),
    ("RENAULT", "MEGANE", 1461, "УНІВЕРСАЛ", "ДИЗЕЛЬНЕ ПАЛИВО", 1300, 12),
    ("DAEWOO", "LANOS", 1498, "СЕДАН", "БЕНЗИН", 1100, 8),
    ("ВАЗ", "2107", 1451, "СЕДАН", "БЕНЗИН", 1030, 6),
    ("BMW", "X5", 2993, "УНІВЕРСАЛ", "ДИЗЕЛЬНЕ ПАЛИВО", 2100, 5),
    ("BMW", "520D", 1995, "СЕДАН", "ДИЗЕЛЬНЕ ПАЛИВО", 1700, 4),
    ("MERCEDES-BENZ", "E 220 CDI", 2143, "СЕДАН", "ДИЗЕЛЬНЕ ПАЛИВО", 1700, 5),
    ("MERCEDES BENZ", "SPRINTER", 2143, "ФУРГОН", "ДИЗЕЛЬНЕ ПАЛИВО", 2100, 3),
    ("LEXUS", "IS 250", 2499, "СЕДАН", "БЕНЗИН", 1600, 2),
    ("TESLA MODEL X", "MODEL X", 0, "УНІВЕРСАЛ", "ЕЛЕКТРО", 2400, 1),
    ("TESLA", "MODEL 3", 0, "СЕДАН", "ЕЛЕКТРО", 1750, 3),
    ("HYUNDAI", "TUCSON", 1999, "УНІВЕРСАЛ", "БЕНЗИН", 1550, 6),
    ("KIA", "SPORTAGE", 1999, "УНІВЕРСАЛ", "БЕНЗИН", 1550, 6),
    ("NISSAN", "LEAF", 0, "ХЕТЧБЕК", "ЕЛЕКТРО", 1500, 8),
    ("FORD", "FOCUS", 1596, "УНІВЕРСАЛ", "БЕНЗИН", 1300, 6),
    ("CHEVROLET", "AVEO", 1498, "СЕДАН", "БЕНЗИН", 1150, 4),
]
CAR_WEIGHTS = [car[-1] for car in CARS]
COLOURS = [
    "БІЛИЙ",
    "ЧОРНИЙ",
    "СІРИЙ",
    "СИНІЙ",
    "ЧЕРВОНИЙ",
    "ЗЕЛЕНИЙ",
    "КОРИЧНЕВИЙ",
    "БЕЖЕВИЙ",
    "ЖОВТИЙ",
]
COLOUR_WEIGHTS = [20, 18, 25, 12, 8, 5, 4, 4, 2]
OPS = [
    (100, "ПЕРВИННА РЕЄСТРАЦІЯ НОВОГО ТЗ ПРИДБАНОГО В ТОРГОВЕЛЬНІЙ ОРГАНІЗАЦІЇ"),
    (72, "РЕЄСТРАЦІЯ ТЗ ПРИВЕЗЕНОГО З-ЗА КОРДОНУ ПО ВМД"),
    (315, "ПЕРЕРЕЄСТРАЦІЯ НА НОВОГО ВЛАСНИКА ЗА ДОГОВОРОМ КУПІВЛІ-ПРОДАЖУ"),
    (254, "НАЛЕЖНИЙ КОРИСТУВАЧ. РЕЄСТРАЦІЯ"),
    (440, "ПЕРЕРЕЄСТРАЦІЯ ТЗ НА НОВОГО ВЛАСНИКА (ДОГОВІР, УКЛАДЕНИЙ В ТСЦ)"),
]
DEPS = [
    (12290, "ТСЦ 8041"),
    (6341, "ТСЦ 6341"),
    (10000, "OLD_ДДАІ МВС УКРАЇНИ"),
    (1841, "ТСЦ 1841"),
]


def plate(rng: random.Random) -> str:
    return (
        rng.choice(REGIONS)
        + f"{rng.randrange(10000):04d}"
        + rng.choice(SERIES)
        + rng.choice(SERIES)
    )


def vin(rng: random.Random) -> str:
    return "".join(rng.choices("ABCDEFGHJKLMNPRSTUVWXYZ0123456789", k=17))


def date_text(day: dt.date, fmt: str) -> str:
    if fmt == "iso":
        return day.isoformat()
    if fmt == "dmy4":
        return day.strftime("%d.%m.%Y")
    return day.strftime("%d.%m.%y")


def malform(line: str, rng: random.Random) -> bytes:
    kind = rng.randrange(4)
    if kind == 0:
        return ";".join(line.split(";")[:-3]).encode()  # wrong column count
    if kind == 1:
        fields = line.split(";")
        fields[4] = "31.02.24"  # impossible date
        return ";".join(fields).encode()
    if kind == 2:
        return line.replace('"ЛЕГКОВИЙ"', '"ЛЕГКОВИЙ', 1).encode()  # stray quote
    return line.encode().replace("ЛЕГКОВИЙ".encode(), "ЛЕГКОВИЙ".encode("cp1251"), 1)


def generate(*, path: Path, rows: int, fmt: str, seed: int, malformed: float) -> None:
    year_text, header, with_vin = FORMATS[fmt]
    year = int(year_text)
    rng = random.Random(seed)
    first_day = dt.date(year, 1, 1)
    plates: list[str] = []  # plates already issued: some are reissued to other cars
    cars: list[
        tuple[str, str, tuple, int, str, str]
    ] = []  # (plate, vin, car, year, colour, koatuu)
    started = time.perf_counter()
    with path.open("wb") as out:
        out.write(header.encode() + b"\r\n")
        for index in range(rows):
            day = first_day + dt.timedelta(days=index * 365 // rows)
            roll = rng.random()
            if cars and roll < 0.30:  # another operation on a known car (new owner, same plate)
                number, car_vin, car, make_year, colour, koatuu = rng.choice(cars)
                op = OPS[rng.choice((2, 3, 4))]
            else:
                if plates and roll < 0.40:  # a plate handed on to a different car
                    number = rng.choice(plates)
                else:
                    number = plate(rng)
                car = rng.choices(CARS, weights=CAR_WEIGHTS)[0]
                car_vin = vin(rng) if with_vin else ""
                make_year = rng.randint(max(1985, year - 25), year)
                colour = rng.choices(COLOURS, weights=COLOUR_WEIGHTS)[0]
                koatuu = f"{rng.randrange(1, 80):02d}{rng.randrange(10**8):08d}"
                op = OPS[0] if make_year == year else OPS[1]
                if len(cars) < 200_000:
                    cars.append((number, car_vin, car, make_year, colour, koatuu))
                else:
                    cars[rng.randrange(len(cars))] = (
                        number,
                        car_vin,
                        car,
                        make_year,
                        colour,
                        koatuu,
                    )
                if len(plates) < 200_000:
                    plates.append(number)
            brand, model, capacity, body, fuel, weight, _ = car
            dep_code, dep = rng.choice(DEPS)
            fields = [
                f'"{rng.choice("PPPPJ")}"',
                f'"{koatuu}"',
                f'"{op[0]}"',
                f'"{op[1]}"',
                date_text(day, fmt),
                str(dep_code),
                f'"{dep}"',
                f'"{brand}"',
                f'"{model}"',
                *([f'"{car_vin}"'] if with_vin else []),
                str(make_year),
                f'"{colour}"',
                '"ЛЕГКОВИЙ"',
                f'"{body}"',
                '"ЗАГАЛЬНИЙ"',
                f'"{fuel}"',
                str(capacity),
                str(weight),
                str(weight + 500),
                f'"{number}"',
            ]
            line = ";".join(fields)
            if rng.random() < malformed:
                out.write(malform(line, rng) + b"\r\n")
            else:
                out.write(line.encode() + b"\r\n")
    elapsed = time.perf_counter() - started
    size = path.stat().st_size / 1e6
    print(f"{path}: {rows:,} rows, {size:,.0f} MB in {elapsed:.1f}s")  # noqa: T201


def get_args_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_500_000, help="rows per file")
    parser.add_argument("--out", type=Path, default=Path("var/bench/register"))
    parser.add_argument("--formats", default="iso,dmy4,dmy2", help="any of iso, dmy4, dmy2")
    parser.add_argument("--malformed", type=float, default=0.001, help="share of broken rows")
    parser.add_argument("--seed", type=int, default=2024)
    return parser


def main(args: argparse.Namespace) -> None:
    args.out.mkdir(parents=True, exist_ok=True)
    for offset, fmt in enumerate(args.formats.split(",")):
        year = FORMATS[fmt][0]
        generate(
            path=args.out / f"register_{year}_{fmt}_{args.rows}.csv",
            rows=args.rows,
            fmt=fmt,
            seed=args.seed + offset,
            malformed=args.malformed,
        )


if __name__ == "__main__":
    main(get_args_parser().parse_args())
