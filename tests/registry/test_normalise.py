from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recognition.pipeline.regions import normalise_plate, to_latin
from recognition.pipeline.regions.text import _SEPARATORS
from registry.normalise import (
    Match,
    compare_colour,
    compare_make,
    compare_model,
    declared_model,
    is_deregistration,
    normalise_colour,
    normalise_vin,
    register_make_model,
    removal_reason,
    same_vin,
    split_brand,
    to_cyrillic,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("АХ1312КК", "AX1312KK"),
        ("аа 1234-вв", "AA1234BB"),
        ("BC 7777 AX", "BC7777AX"),
        ("КА-0101-АМ", "KA0101AM"),
        ("", ""),
    ],
)
def test_plates_get_one_latin_key(text: str, expected: str) -> None:
    assert normalise_plate(text) == expected


@pytest.mark.parametrize("text", ["АХ1312КК", "аа 1234-вв", "Ї1234ЫУ", "AB\u00a01234 CE", "a.b|c"])
def test_the_plate_keys_fast_path_is_the_full_rule(text: str) -> None:
    # One function keys readings, register rows and declared plates; its translate() fast path
    # must give what the full rule (strip, Cyrillic look-alikes to Latin, separators out) gives.
    assert normalise_plate(text) == _SEPARATORS.sub("", to_latin(text.strip()))


@given(st.text(alphabet="AaBbKkXx019АаВвКкХхІЇЫУß -_.·|\t\n\u00a0", max_size=12))
def test_the_plate_keys_fast_path_is_the_full_rule_on_any_text(text: str) -> None:
    assert normalise_plate(text) == _SEPARATORS.sub("", to_latin(text.strip()))


def test_latin_plate_round_trips_through_cyrillic() -> None:
    assert to_cyrillic("AX1312KK") == "АХ1312КК"
    assert normalise_plate(to_cyrillic("AX1312KK")) == "AX1312KK"


def test_vins_are_cleaned() -> None:
    assert normalise_vin(" jthck262882026114 ") == "JTHCK262882026114"
    assert normalise_vin("JTHCK2628-8202-6114") == "JTHCK262882026114"
    assert normalise_vin("JТНСК262882026114") == "JTHCK262882026114"  # Cyrillic Т Н С К


@pytest.mark.parametrize(
    ("brand", "make", "rest"),
    [
        ("MERCEDES-BENZ", "MERCEDES-BENZ", ""),
        ("MERCEDES BENZ", "MERCEDES-BENZ", ""),
        ("MB", "MERCEDES-BENZ", ""),
        ("Мерседес", "MERCEDES-BENZ", ""),
        ("mercedes-benz e 220", "MERCEDES-BENZ", "E 220"),
        ("TESLA MODEL X", "TESLA", "MODEL X"),
        ("ВАЗ", "LADA", ""),
        ("VW", "VOLKSWAGEN", ""),
        ("SOME NEW BRAND", "SOME NEW BRAND", ""),
    ],
)
def test_brand_aliases_and_brands_that_hold_the_model(brand: str, make: str, rest: str) -> None:
    assert split_brand(brand) == (make, rest)


@pytest.mark.parametrize(
    ("brand", "model", "expected"),
    [
        ("TESLA MODEL X", "", ("TESLA", "MODEL X")),
        ("TESLA MODEL X", "MODEL X", ("TESLA", "MODEL X")),
        ("LEXUS", "IS 250", ("LEXUS", "IS 250")),
        ("MB", "E220 CDI", ("MERCEDES-BENZ", "E 220")),
        ("MERCEDES-BENZ", "MERCEDES-BENZ E 220", ("MERCEDES-BENZ", "E 220")),
    ],
)
def test_register_make_and_model(brand: str, model: str, expected: tuple[str, str]) -> None:
    assert register_make_model(brand, model) == expected


@pytest.mark.parametrize(
    ("declared", "registered", "expected"),
    [
        ("IS250", "IS 250", Match.MATCH),
        ("is-250", "IS 250", Match.MATCH),
        ("Camry XLE", "CAMRY", Match.MATCH),
        ("Golf", "GOLF VARIANT", Match.SOFT),
        ("520", "520D", Match.SOFT),
        ("Corolla", "CAMRY", Match.MISMATCH),
        ("X5", "X50", Match.MISMATCH),
        ("Model S", "MODEL X", Match.MISMATCH),
        ("", "CAMRY", Match.UNKNOWN),
    ],
)
def test_models_compare_despite_case_spacing_and_trims(
    declared: str, registered: str, expected: Match
) -> None:
    assert compare_model(declared, registered) is expected


def test_makes_compare_through_aliases() -> None:
    assert compare_make("Mercedes", "MERCEDES-BENZ") is Match.MATCH
    assert compare_make("BMW", "MERCEDES-BENZ") is Match.MISMATCH
    assert compare_make("", "BMW") is Match.UNKNOWN


@pytest.mark.parametrize(
    ("text", "colour"),
    [
        ("ЧОРНИЙ", "black"),
        ("БІЛИЙ", "white"),
        ("СІРИЙ", "grey"),
        ("ЧЕРВОНИЙ", "red"),
        ("СИНІЙ", "blue"),
        ("ЗЕЛЕНИЙ", "green"),
        ("Silver metallic", "silver"),
        ("gray", "grey"),
        ("темно-синій", "blue"),
        ("light blue", "light_blue"),
        ("серебристый", "silver"),
        ("чорна", "black"),
        ("plaid", ""),
    ],
)
def test_colours_map_to_one_palette(text: str, colour: str) -> None:
    assert normalise_colour(text) == colour


@pytest.mark.parametrize(
    ("declared", "registered", "expected"),
    [
        ("grey", "СІРИЙ", Match.MATCH),
        ("silver", "СІРИЙ", Match.SOFT),
        ("beige", "КОРИЧНЕВИЙ", Match.SOFT),
        ("red", "СИНІЙ", Match.MISMATCH),
        ("", "СИНІЙ", Match.UNKNOWN),
        ("срібний", "СРІБЛЯСТИЙ", Match.MATCH),
        ("срібний", "ЧЕРВОНИЙ", Match.MISMATCH),
        # a compound colour shares a hue with either of its parts
        ("сіро-синій", "СИНІЙ", Match.SOFT),
        ("blue", "СІРО-СИНІЙ", Match.SOFT),
        ("синьо-зелений", "ЗЕЛЕНИЙ", Match.SOFT),
        ("сіро-синій", "ЧЕРВОНИЙ", Match.MISMATCH),
    ],
)
def test_near_and_compound_colours_are_a_soft_match(
    declared: str, registered: str, expected: Match
) -> None:
    assert compare_colour(declared, registered) is expected


@pytest.mark.django_db
def test_the_sql_vin_key_is_python_s_for_every_ascii_vin() -> None:
    """The import computes VIN keys in SQL (translate, not a regex); ASCII VINs must get the
    key Python gives them, separators, quotes, braces and control characters included."""
    from django.db import connection

    from registry.normalise import VIN_SQL

    vins = [
        "WVWZZZ1JZXW000001",
        "wvw zzz-1jz.xw/000001",
        "AB'C\\D{E}F%G_H\tI\x7fJ\x01K",
        "".join(chr(c) for c in range(1, 128)),
        "",
    ]
    with connection.cursor() as cursor:
        for vin in vins:
            cursor.execute("SELECT " + VIN_SQL.format("%s"), [vin])
            assert cursor.fetchone()[0] == normalise_vin(vin), repr(vin)


@pytest.mark.parametrize(
    ("declared", "registered", "expected"),
    [
        # "E-Class" names the family the register writes by engine: E 220, E 300 D...
        ("E-Class", "E 220 D", Match.SOFT),
        ("S-class", "S 500", Match.SOFT),
        ("C-Class", "E 220", Match.MISMATCH),
        # a BMW series is the first digit of the model code
        ("3 series", "320D", Match.SOFT),
        ("5 Series", "530 I", Match.SOFT),
        ("3 series", "520D", Match.MISMATCH),
        ("3 series", "X3", Match.MISMATCH),
        # Soviet codes: four digits the model, a fifth its modification
        ("2107", "21074", Match.SOFT),
        ("21213", "2121", Match.SOFT),
        ("2107", "21061", Match.MISMATCH),
        # numbers that merely start alike stay different cars
        ("308", "3008", Match.MISMATCH),
        ("3", "CX-3", Match.MISMATCH),
        ("CX-3", "CX-30", Match.MISMATCH),
        ("Qashqai", "QASHQAI+2", Match.SOFT),
    ],
)
def test_model_families_and_codes(declared: str, registered: str, expected: Match) -> None:
    assert compare_model(declared, registered) is expected


@pytest.mark.parametrize(
    ("declared", "registered", "make", "expected"),
    [
        # the make glued to the model's number, as Mazda writes it
        ("Mazda3", "3", "MAZDA", Match.MATCH),
        ("Mazda6", "CX-5", "MAZDA", Match.MISMATCH),
        # Cyrillic look-alike letters typed in a model code
        ("Х5", "X5", "BMW", Match.MATCH),
        ("Е 220", "E 220", "MERCEDES-BENZ", Match.MATCH),
        ("А6", "A8", "AUDI", Match.MISMATCH),
        # a name in the other script cannot be compared without a dictionary: no verdict
        ("Гольф", "GOLF", "VOLKSWAGEN", Match.UNKNOWN),
        ("Tavria", "ТАВРІЯ", "ZAZ", Match.UNKNOWN),
        ("Таврія", "ТАВРІЯ", "ZAZ", Match.MATCH),
        # Soviet makes: the register writes the factory code, sellers the name (Priora = 2170)
        ("Priora", "2170", "LADA", Match.UNKNOWN),
        ("Kalina", "21194", "LADA", Match.UNKNOWN),
        ("Partner", "308", "PEUGEOT", Match.MISMATCH),
        ("2107", "2170", "LADA", Match.MISMATCH),
    ],
)
def test_models_compare_across_scripts_and_glued_makes(
    declared: str, registered: str, make: str, expected: Match
) -> None:
    assert compare_model(declared, registered, make) is expected


@pytest.mark.parametrize(
    ("declared", "registered", "expected"),
    [
        # one car sold under several badges: the make says nothing, the model decides
        ("Daewoo", "ЗАЗ", Match.SOFT),
        ("Chevrolet", "DAEWOO", Match.SOFT),
        ("Daewoo", "TOYOTA", Match.MISMATCH),
        # Range Rover is a Land Rover line that sellers give as the make
        ("Range Rover", "LAND ROVER", Match.MATCH),
        # real spellings missing from the table
        ("Мітсубісі", "MITSUBISHI", Match.MATCH),
        ("Дэу", "DAEWOO", Match.MATCH),
        ("Жигули", "ВАЗ", Match.MATCH),
        # a Cyrillic make the table does not know cannot contradict a Latin one ...
        ("Лэнд Ровер", "LAND ROVER", Match.UNKNOWN),
        ("Чанган", "CHANGAN", Match.UNKNOWN),
        # ... but two makes in one script still can
        ("Haval", "TOYOTA", Match.MISMATCH),
        ("Haval", "HAVAL", Match.MATCH),
    ],
)
def test_make_families_and_spellings(declared: str, registered: str, expected: Match) -> None:
    assert compare_make(declared, registered) is expected


def test_range_rover_keeps_its_words_in_the_model() -> None:
    assert split_brand("RANGE ROVER SPORT") == ("LAND ROVER", "RANGE ROVER SPORT")
    assert declared_model("Range Rover", "Evoque") == "RANGE ROVER EVOQUE"
    assert declared_model("Range Rover", "Range Rover Evoque") == "RANGE ROVER EVOQUE"
    assert declared_model("Kia Motors", "Sportage") == "Sportage"
    assert register_make_model("LAND ROVER", "RANGE ROVER EVOQUE") == (
        "LAND ROVER",
        "RANGE ROVER EVOQUE",
    )


@pytest.mark.parametrize(
    ("declared", "registered", "expected"),
    [
        # VINs never hold I, O or Q (ISO 3779): a seller's O is the digit 0
        ("JTNB11HKOJ3OOOOO1", "JTNB11HK0J3000001", True),
        ("WBAKS41OXOOCOOOO2", "WBAKS410X00C00002", True),
        ("JTNB11HK0J3000001", "WBAKS410X00C00002", False),
    ],
)
def test_vins_compare_despite_letters_a_vin_cannot_hold(
    declared: str, registered: str, expected: bool
) -> None:
    assert same_vin(declared, registered) is expected


# Operation names as the open data writes them: 2013-2020 files put the code in front and mix
# Latin I into Cyrillic words; later files give the name alone.
@pytest.mark.parametrize(
    "name",
    [
        "530 - ЗНЯТТЯ З ОБЛIКУ ДЛЯ РЕАЛIЗАЦIЇ",
        "540 -  ЗНЯТТЯ З ОБЛIКУ У ЗВ`ЯЗКУ З ВИБРАКОВКОЮ",
        "542 - ЗНЯТТЯ З ОБЛІКУ У ЗВ'ЯЗКУ З УТІЛІЗАЦІЄЮ",
        "520 - ЗНЯТТЯ З ОБЛIКУ ПРИ ВИВЕЗЕННІ ЗА КОРДОН",
        "53 - ЗНЯТТЯ ТЗ З ОБЛІКУ ЗА РІШЕННЯМ СУДУ",
        "536 - ЗНЯТТЯ З ОБЛІКУТЗ (ДОГОВІР УКЛАДЕНИЙ В ТСЦ)",
        "500 - ЗНЯТТЯ З ОБЛІКУ У ЗВ`ЯЗКУ З АНУЛЮВАННЯМ РЕЄСТРАЦІЇ",
        "ЗНЯТТЯ З ОБЛІКУ У ЗВ'ЯЗКУ З ВИВЕЗЕННЯМ ЗА МЕЖІ УКРАЇНИ",
        "зняття з обліку для утилізації",
    ],
)
def test_removals_from_the_register_are_deregistrations(name: str) -> None:
    assert is_deregistration(name)


@pytest.mark.parametrize(
    "name",
    [
        "315 - ПЕРЕРЕЄСТРАЦІЯ ТЗ НА НОВ. ВЛАСН. ПО ДОГОВОРУ УКЛАДЕНОМУ В ТСЦ",
        "ПЕРВИННА РЕЄСТРАЦІЯ НОВОГО ТЗ",
        # a removal undone: the car is registered again
        "501 - СКАСУВАННЯ ЗНЯТТЯ З ОБЛІКУ ТЗ",
        "501 - АНУЛЮВАННЯ ЗНЯТТЯ З ОБЛІКУ ТЗ",
        "143 - ПОНОВЛЕННЯ РЕЄСТР. ПІСЛЯ УМОВН. ЗНЯТТЯ З ОБЛ. З НЕПР. ТО",
        "322 - ПЕРЕРЕЄСТРАЦIЯ ТЗ НА НОВ. ВЛАС. ПО УСПАДКУВАННЮ ЗА ЗАКОНОМ ЧИ ЗНЯТТЯМ З ОБЛІКУ "
        "В ОРГАНАХ СОЦЗАХИСТУ",
        # conditional: the car keeps its plates and papers until it is inspected or resold
        "541 - УМОВНЕ ЗНЯТТЯ З ОБЛІКУ У ЗВ`ЯЗКУ З НЕПРОХОДЖЕННЯМ ТО",
        # a temporary registration (a driver's by proxy) ends; the owner's stays
        "256 -  АНУЛЮВАННЯ ВИДАЧI ТИМЧАС. РЕЕСТР. ТАЛОНУ ПО ЗАЯВI ВЛ",
        "",
    ],
)
def test_other_operations_are_not_deregistrations(name: str) -> None:
    assert not is_deregistration(name)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("520 - ЗНЯТТЯ З ОБЛIКУ ПРИ ВИВЕЗЕННІ ЗА КОРДОН", "export"),
        ("ЗНЯТТЯ З ОБЛІКУ У ЗВ'ЯЗКУ З ВИВЕЗЕННЯМ ЗА МЕЖІ УКРАЇНИ", "export"),
        ("540 -  ЗНЯТТЯ З ОБЛIКУ У ЗВ`ЯЗКУ З ВИБРАКОВКОЮ", "scrapped"),
        ("542 - ЗНЯТТЯ З ОБЛІКУ У ЗВ'ЯЗКУ З УТІЛІЗАЦІЄЮ", "scrapped"),
        ("зняття з обліку для утилізації", "scrapped"),
        ("530 - ЗНЯТТЯ З ОБЛIКУ ДЛЯ РЕАЛIЗАЦIЇ", "sale"),
        ("536 - ЗНЯТТЯ З ОБЛІКУТЗ (ДОГОВІР УКЛАДЕНИЙ В ТСЦ)", "sale"),
        ("53 - ЗНЯТТЯ ТЗ З ОБЛІКУ ЗА РІШЕННЯМ СУДУ", "other"),
        ("500 - ЗНЯТТЯ З ОБЛІКУ У ЗВ`ЯЗКУ З АНУЛЮВАННЯМ РЕЄСТРАЦІЇ", "other"),
        ("ЗНЯТТЯ З ОБЛІКУ ТЗ", "other"),
    ],
)
def test_a_removal_says_what_became_of_the_car(name: str, reason: str) -> None:
    assert removal_reason(name) == reason
