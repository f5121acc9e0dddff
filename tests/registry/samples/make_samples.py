"""Regenerates the register sample files of tests/registry and the demo register.

.venv/bin/python tests/registry/samples/make_samples.py
"""

import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
S = ROOT / "tests/registry/samples"
H20 = (
    "PERSON;REG_ADDR_KOATUU;OPER_CODE;OPER_NAME;D_REG;DEP_CODE;DEP;BRAND;MODEL;VIN;MAKE_YEAR;COLOR;"
    "KIND;BODY;PURPOSE;FUEL;CAPACITY;OWN_WEIGHT;TOTAL_WEIGHT;N_REG_NEW"
)
COLS20 = H20.split(";")
H13 = ";".join(c for c in COLS20 if c != "VIN")
COLS26 = [c for c in COLS20 if c not in ("N_REG_NEW", "PURPOSE", "OWN_WEIGHT")]
H26 = ";".join(COLS26)
QUOTED = {
    "PERSON",
    "REG_ADDR_KOATUU",
    "OPER_CODE",
    "OPER_NAME",
    "DEP",
    "BRAND",
    "MODEL",
    "VIN",
    "COLOR",
    "KIND",
    "BODY",
    "PURPOSE",
    "FUEL",
    "N_REG_NEW",
}
OPS = {
    100: "ПЕРВИННА РЕЄСТРАЦІЯ НОВОГО ТЗ",
    254: "НАЛЕЖНИЙ КОРИСТУВАЧ. РЕЄСТРАЦІЯ",
    315: "ПЕРЕРЕЄСТРАЦІЯ НА НОВОГО ВЛАСНИКА ЗА ДОГОВОРОМ КУПІВЛІ-ПРОДАЖУ",
    72: "РЕЄСТРАЦІЯ ТЗ ПРИВЕЗЕНОГО З-ЗА КОРДОНУ",
    # a removal (registry.normalise.is_deregistration): the owner hands the car to a trader
    530: "ЗНЯТТЯ З ОБЛІКУ ДЛЯ РЕАЛІЗАЦІЇ",
}
DEPS = {1: (12290, "ТСЦ 8041"), 2: (10000, "OLD_ДДАІ МВС УКРАЇНИ"), 3: (6341, "ТСЦ 6341")}


def row(
    cols,
    *,
    date,
    op,
    plate,
    brand,
    model,
    vin,
    year,
    colour,
    body="СЕДАН",
    fuel="БЕНЗИН",
    cap=1998,
    own=1400,
    total=1900,
    person="P",
    koatuu="8036100000",
    dep=1,
):
    dep_code, dep_name = DEPS[dep]
    values = {
        "PERSON": person,
        "REG_ADDR_KOATUU": koatuu,
        "OPER_CODE": str(op),
        "OPER_NAME": OPS[op],
        "D_REG": date,
        "DEP_CODE": str(dep_code),
        "DEP": dep_name,
        "BRAND": brand,
        "MODEL": model,
        "VIN": vin,
        "MAKE_YEAR": str(year),
        "COLOR": colour,
        "KIND": "ЛЕГКОВИЙ",
        "BODY": body,
        "PURPOSE": "ЗАГАЛЬНИЙ",
        "FUEL": fuel,
        "CAPACITY": str(cap),
        "OWN_WEIGHT": str(own),
        "TOTAL_WEIGHT": str(total),
        "N_REG_NEW": plate,
    }
    return ";".join(f'"{values[c]}"' if c in QUOTED else values[c] for c in cols)


def d(fmt, y, m, dd):
    return {
        "iso": f"{y:04d}-{m:02d}-{dd:02d}",
        "dmy4": f"{dd:02d}.{m:02d}.{y:04d}",
        "dmy2": f"{dd:02d}.{m:02d}.{y % 100:02d}",
    }[fmt]


# (date, op, plate, brand, model, vin, year, colour, extra)
CARS = [
    ((3, 14), 315, "АА1234ВВ", "TOYOTA", "CAMRY", "JTNB11HK0J3000001", 2018, "БІЛИЙ", {}),
    (
        (2, 9),
        100,
        "ВС7777АХ",
        "BMW",
        "X5",
        "WBAKS410X00C00002",
        2016,
        "ЧОРНИЙ",
        {"body": "УНІВЕРСАЛ", "fuel": "ДИЗЕЛЬНЕ ПАЛИВО", "cap": 2993},
    ),
    (
        (5, 20),
        72,
        "КА0101АМ",
        "TESLA MODEL X",
        "MODEL X",
        "5YJXCCE26GF000003",
        2020,
        "СІРИЙ",
        {"fuel": "ЕЛЕКТРО", "cap": 0},
    ),
    (
        (1, 1),
        254,
        "АХ1312КК",
        "LEXUS",
        "IS 250",
        "JTHCK262882026114",
        2008,
        "ЧЕРВОНИЙ",
        {"cap": 2499, "own": 2075, "total": 2575},
    ),
    (
        (6, 30),
        315,
        "АІ5555ІА",
        "MERCEDES-BENZ",
        "E 220 CDI",
        "WDD2120021A000005",
        2012,
        "СИНІЙ",
        {"fuel": "ДИЗЕЛЬНЕ ПАЛИВО"},
    ),
    (
        (7, 7),
        315,
        "ВІ0007ВІ",
        "VOLKSWAGEN",
        "PASSAT",
        "WVWZZZ3CZBE000006",
        2011,
        "СІРИЙ",
        {"body": "УНІВЕРСАЛ"},
    ),
]


def write(path, header, cols, fmt, year, cars=CARS, extra_lines=(), encoding="utf-8", bom=False):
    lines = [header]
    for (m, dd), op, plate, brand, model, vin, yr, colour, kw in cars:
        lines.append(
            row(
                cols,
                date=d(fmt, year, m, dd),
                op=op,
                plate=plate,
                brand=brand,
                model=model,
                vin=vin,
                year=yr,
                colour=colour,
                **kw,
            )
        )
    lines.extend(extra_lines)
    data = ("\r\n".join(lines) + "\r\n").encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)


# 2013-2020: no VIN column, ISO dates; same plate twice (plate moved from a Lanos to a Camry)
cols13 = H13.split(";")
write(
    S / "register_2016.csv",
    H13,
    cols13,
    "iso",
    2016,
    cars=[((4, 2), 100, "АА1234ВВ", "DAEWOO", "LANOS", "", 2005, "СІРИЙ", {"cap": 1498})]
    + CARS[1:2]
    + CARS[3:4],
)
write(S / "register_2021.csv", H20, COLS20, "dmy4", 2021)
write(S / "register_2024.csv", H20, COLS20, "dmy2", 2024)
write(S / "register_2024_bom.csv", H20, COLS20, "dmy2", 2024, bom=True)
write(S / "register_2024_cp1251.csv", H20, COLS20, "dmy2", 2024, encoding="cp1251")
write(S / "register_2026.csv", H26, COLS26, "dmy2", 2026, cars=CARS[3:6])
with zipfile.ZipFile(S / "register_2024.zip", "w", compression=zipfile.ZIP_DEFLATED) as archive:
    archive.write(S / "register_2024.csv", "tz_opendata_z01012024_po31122024.csv")

# malformed: line numbers are fixed by position (header = line 1)
good = [
    row(
        COLS20,
        date=d("dmy2", 2025, 1, 1 + i),
        op=315,
        plate=f"КА{1000 + i}АА",
        brand="SKODA",
        model="OCTAVIA",
        vin=f"TMBJJ7NE0J00000{i:02d}",
        year=2018,
        colour="ЗЕЛЕНИЙ",
    )
    for i in range(6)
]
bad_cols = ";".join(good[0].split(";")[:15])  # 15 columns
bad_date = good[1].replace("02.01.25", "31.02.25")  # impossible date
bad_year = good[2].replace(";2018;", ";20I8;")  # not a number
bad_quote = good[3].replace('"SKODA"', '"SKODA')  # stray quote
lines = [
    H20,
    good[0],
    bad_cols,
    good[1].replace("02.01.25", "2025-01-02"),
    bad_date,
    bad_year,
    bad_quote,
    "",
    good[4],
]
data = "\r\n".join(lines).encode() + b"\r\n"
enc_bad = good[5].encode().replace("ЗЕЛЕНИЙ".encode(), "ЗЕЛЕНИЙ".encode("cp1251"))
(S / "register_malformed.csv").write_bytes(data + enc_bad + b"\r\n")

# demo register, 2023+ format spanning several years (dates DD.MM.YY)
DEMO = ROOT / "registry/sample_data/register_demo.csv"
demo_rows = [
    (
        2016,
        (4, 2),
        100,
        "АА1234ВВ",
        "DAEWOO",
        "LANOS",
        "SUF4A0000E0000100",
        2005,
        "СІРИЙ",
        {"cap": 1498},
    ),
    (2023, (3, 14), 315, "АА1234ВВ", "TOYOTA", "CAMRY", "JTNB11HK0J3000001", 2018, "БІЛИЙ", {}),
    (
        2019,
        (2, 9),
        100,
        "ВС7777АХ",
        "BMW",
        "X5",
        "WBAKS410X00C00002",
        2016,
        "ЧОРНИЙ",
        {"body": "УНІВЕРСАЛ", "fuel": "ДИЗЕЛЬНЕ ПАЛИВО", "cap": 2993},
    ),
    (
        2024,
        (8, 11),
        315,
        "ВС7777АХ",
        "BMW",
        "X5",
        "WBAKS410X00C00002",
        2016,
        "ЧОРНИЙ",
        {"body": "УНІВЕРСАЛ", "fuel": "ДИЗЕЛЬНЕ ПАЛИВО", "cap": 2993},
    ),
    (
        2022,
        (5, 20),
        72,
        "КА0101АМ",
        "TESLA MODEL X",
        "MODEL X",
        "5YJXCCE26GF000003",
        2020,
        "СІРИЙ",
        {"fuel": "ЕЛЕКТРО", "cap": 0},
    ),
    (
        2025,
        (1, 1),
        254,
        "АХ1312КК",
        "LEXUS",
        "IS 250",
        "JTHCK262882026114",
        2008,
        "ЧЕРВОНИЙ",
        {"cap": 2499, "own": 2075, "total": 2575},
    ),
    (
        2021,
        (6, 30),
        315,
        "АІ5555ІА",
        "MERCEDES-BENZ",
        "E 220 CDI",
        "WDD2120021A000005",
        2012,
        "СИНІЙ",
        {"fuel": "ДИЗЕЛЬНЕ ПАЛИВО"},
    ),
    (
        2020,
        (7, 7),
        315,
        "ВІ0007ВІ",
        "VOLKSWAGEN",
        "PASSAT",
        "WVWZZZ3CZBE000006",
        2011,
        "СІРИЙ",
        {"body": "УНІВЕРСАЛ"},
    ),
    (
        2024,
        (9, 3),
        315,
        "КА7000ВС",
        "SKODA",
        "OCTAVIA",
        "TMBJJ7NE0J0000007",
        2019,
        "ЗЕЛЕНИЙ",
        {"body": "ЛІФТБЕК", "cap": 1395},
    ),
    # the same Skoda taken off the register for sale through a trader: its plate is on no
    # registered car, and the demo's listing of it (DEMO-009, its VIN declared) is flagged
    (
        2025,
        (2, 17),
        530,
        "КА7000ВС",
        "SKODA",
        "OCTAVIA",
        "TMBJJ7NE0J0000007",
        2019,
        "ЗЕЛЕНИЙ",
        {"body": "ЛІФТБЕК", "cap": 1395},
    ),
    (
        2023,
        (10, 12),
        100,
        "АЕ2020ОР",
        "RENAULT",
        "MEGANE",
        "VF1RFB00060000008",
        2017,
        "СІРИЙ",
        {"body": "УНІВЕРСАЛ", "fuel": "ДИЗЕЛЬНЕ ПАЛИВО", "cap": 1461},
    ),
    (
        2024,
        (11, 28),
        72,
        "ВН4242НВ",
        "HYUNDAI",
        "TUCSON",
        "KMHJ381BDHU000009",
        2017,
        "БЕЖЕВИЙ",
        {"body": "УНІВЕРСАЛ"},
    ),
    (
        2022,
        (12, 5),
        315,
        "ХА3456АХ",
        "KIA",
        "SPORTAGE",
        "U5YPC81BDKL000010",
        2019,
        "СИНІЙ",
        {"body": "УНІВЕРСАЛ"},
    ),
]
lines = [H20] + [
    row(
        COLS20,
        date=d("dmy2", y, m, dd),
        op=op,
        plate=p,
        brand=b,
        model=mo,
        vin=v,
        year=yr,
        colour=c,
        **kw,
    )
    for y, (m, dd), op, p, b, mo, v, yr, c, kw in demo_rows
]
DEMO.write_bytes(("\r\n".join(lines) + "\r\n").encode())
