"""Normalisation of register and listing values into comparable keys.

Pure functions, no Django: the importer, the cross-check rules and the bench all call them.
Every table lives here so that the registry has exactly one notion of "the same plate",
"the same make", "the same model" and "the same colour".
"""

from __future__ import annotations

import enum
import re
from functools import lru_cache

from recognition.pipeline.regions import to_cyrillic as to_cyrillic  # re-exported
from recognition.pipeline.regions import to_latin as to_latin  # re-exported
from recognition.pipeline.regions.text import CYRILLIC_TO_LATIN


class Match(enum.Enum):
    """Outcome of comparing a declared value with a registered one."""

    MATCH = "match"
    SOFT = "soft"  # close enough that a mismatch flag would mostly be noise (grey vs silver)
    MISMATCH = "mismatch"
    UNKNOWN = "unknown"  # one side is blank or not understood: no verdict either way


# --- plates -------------------------------------------------------------------------------------

# The plate key is the engine's own, recognition.pipeline.regions.normalise_plate: one function
# for readings, register rows and declared plates.
_PLATE_CYRILLIC = "АВЕІКМНОРСТХ"
_TO_LATIN = str.maketrans(dict(zip(_PLATE_CYRILLIC, "ABEIKMHOPCTX", strict=True)))


# --- VINs ---------------------------------------------------------------------------------------

_VIN_JUNK = re.compile(r"[^A-Z0-9]")


def normalise_vin(text: str) -> str:
    """Upper-case Latin VIN without separators; Cyrillic look-alikes typed by sellers fixed."""
    if text.isascii() and text.isalnum() and text.isupper():
        return text  # the register's own VINs: skip the regex on millions of rows
    if not text:
        return ""
    return _VIN_JUNK.sub("", text.upper().translate(_TO_LATIN))


# A VIN never holds I, O or Q (ISO 3779), so one typed with them meant 1 and 0.
_VIN_LOOKALIKES = str.maketrans("IOQ", "100")


def same_vin(declared: str, registered: str) -> bool:
    """The same VIN once cleaned, a seller's I, O and Q read as the digits they stand for."""
    return vin_key(declared) == vin_key(registered)


def vin_key(vin: str) -> str:
    """A VIN cleaned, its I, O and Q (never in a VIN) read as 1, 0 and 0: one key per VIN
    however a seller typed it."""
    return normalise_vin(vin).translate(_VIN_LOOKALIKES)


# --- makes --------------------------------------------------------------------------------------

# canonical make -> aliases as written in the register, by sellers, or in Cyrillic.
# Keys are compared after _make_key() (upper-case, dashes/dots as spaces, one space).
_MAKE_ALIASES: dict[str, tuple[str, ...]] = {
    "MERCEDES-BENZ": ("MERCEDES BENZ", "MERCEDES", "MB", "MERS", "МЕРСЕДЕС", "МЕРСЕДЕС БЕНЦ"),
    "VOLKSWAGEN": ("VW", "VOLKSWAGON", "ФОЛЬКСВАГЕН"),
    "BMW": ("БМВ",),
    "TOYOTA": ("ТОЙОТА",),
    "LEXUS": ("ЛЕКСУС",),
    "TESLA": ("ТЕСЛА", "TESLA MOTORS"),
    "SKODA": ("ŠKODA", "ШКОДА"),
    "RENAULT": ("РЕНО",),
    "HYUNDAI": ("ХЮНДАЙ", "ХЕНДАЙ", "HUNDAI"),
    "KIA": ("КІА", "КИА"),
    "NISSAN": ("НІССАН", "НИССАН"),
    "FORD": ("ФОРД",),
    "CHEVROLET": ("ШЕВРОЛЕ", "CHEVY"),
    "DAEWOO": ("ДЕУ", "ДЭУ", "DAEWOO MOTORS"),
    "LADA": ("ВАЗ", "VAZ", "LADA VAZ", "ЛАДА", "ЖИГУЛІ", "ЖИГУЛИ"),
    "ZAZ": ("ЗАЗ",),
    "GAZ": ("ГАЗ",),
    "UAZ": ("УАЗ",),
    "AUDI": ("АУДІ", "АУДИ"),
    "OPEL": ("ОПЕЛЬ",),
    "PEUGEOT": ("ПЕЖО",),
    "CITROEN": ("CITROËN", "СІТРОЕН", "СИТРОЕН"),
    "MITSUBISHI": ("МІЦУБІСІ", "МИЦУБИСИ", "МІТСУБІСІ", "МИТСУБИСИ"),
    "MAZDA": ("МАЗДА",),
    "HONDA": ("ХОНДА",),
    "SUBARU": ("СУБАРУ",),
    "VOLVO": ("ВОЛЬВО",),
    "LAND ROVER": ("LANDROVER", "ЛЕНД РОВЕР"),
    "JEEP": ("ДЖИП",),
    "FIAT": ("ФІАТ", "ФИАТ"),
    "SEAT": ("СЕАТ",),
    "SUZUKI": ("СУЗУКІ", "СУЗУКИ"),
    "PORSCHE": ("ПОРШЕ",),
    "INFINITI": ("ІНФІНІТІ",),
    "GEELY": ("ДЖИЛІ",),
    "CHERY": ("ЧЕРІ",),
}


# Model lines that sellers and clerks give as the make: the make is the canonical one, and the
# line's words stay at the head of the model (LAND ROVER + RANGE ROVER SPORT).
_MODEL_LINE_MAKES: dict[str, str] = {"RANGE ROVER": "LAND ROVER"}
# One car sold under several badges (ZAZ built the Lanos and the Sens as Daewoo, ZAZ and
# Chevrolet): the register and the seller may each use any of them, so the make decides
# nothing and the model is compared instead.
_MAKE_FAMILIES = (frozenset({"DAEWOO", "ZAZ", "CHEVROLET"}),)


def _make_key(text: str) -> str:
    return " ".join(re.sub(r"[-_./]+", " ", text.upper()).split())


_MAKE_INDEX: dict[str, str] = {}
for _canonical, _aliases in _MAKE_ALIASES.items():
    for _alias in (_canonical, *_aliases):
        _MAKE_INDEX[_make_key(_alias)] = _canonical
_MAKE_INDEX.update(_MODEL_LINE_MAKES)
_MAX_MAKE_WORDS = max(len(key.split()) for key in _MAKE_INDEX)
_CYRILLIC = re.compile(r"[А-ЯЁІЇЄҐ]", re.IGNORECASE)
_LATIN = re.compile(r"[A-Z]", re.IGNORECASE)


def _other_scripts(left: str, right: str) -> bool:
    """One is written in Cyrillic letters and the other in Latin ones."""
    return bool(
        (_CYRILLIC.search(left) and _LATIN.search(right) and not _LATIN.search(left))
        or (_CYRILLIC.search(right) and _LATIN.search(left) and not _LATIN.search(right))
    )


@lru_cache(maxsize=16384)
def split_brand(brand: str) -> tuple[str, str]:
    """Split a BRAND field into (canonical make, model words it also holds).

    The register sometimes writes the model into BRAND (``TESLA MODEL X``); the longest known
    alias prefix wins, so ``MERCEDES BENZ E 220`` is MERCEDES-BENZ + ``E 220``. An unknown brand
    is returned cleaned with no model part, since there is no safe place to cut it.
    """
    words = _make_key(brand).split()
    for size in range(min(len(words), _MAX_MAKE_WORDS), 0, -1):
        prefix = " ".join(words[:size])
        canonical = _MAKE_INDEX.get(prefix)
        if canonical is not None:
            kept = size if prefix not in _MODEL_LINE_MAKES else 0
            return canonical, " ".join(words[kept:])
    return " ".join(words), ""


def normalise_make(text: str) -> str:
    """Canonical make for a seller's or register's make text ("" when blank)."""
    return split_brand(text)[0]


def compare_make(declared: str, registered: str) -> Match:
    """MATCH through aliases, SOFT within a badge family; a make the table does not know,
    written in the other script, is a spelling we cannot read, not a different car."""
    left, right = normalise_make(declared), normalise_make(registered)
    if not left or not right:
        return Match.UNKNOWN
    if left == right:
        return Match.MATCH
    if any(left in family and right in family for family in _MAKE_FAMILIES):
        return Match.SOFT
    known = _MAKE_ALIASES.keys()
    if (left not in known or right not in known) and _other_scripts(left, right):
        return Match.UNKNOWN
    return Match.MISMATCH


# --- models -------------------------------------------------------------------------------------

# Words that name a trim, drivetrain, body or engine variant rather than the model itself:
# sellers add them freely, the register rarely does, so they never decide a mismatch.
_TRIM_WORDS = frozenset(
    """
    AWD 4WD 2WD 4X4 4MATIC XDRIVE SDRIVE QUATTRO 4MOTION ALLGRIP
    TDI TSI TFSI FSI CDI CRDI DCI HDI TDCI VVTI VTEC GDI MPI TURBO DIESEL HYBRID PHEV EV PLUGIN
    XLE LE SE SEL SR SR5 LX EX GL GLS GLX GT GTI GTS LIMITED LTD PREMIUM COMFORT LUXURY ELEGANCE
    SPORT SPORTLINE ACTIVE AMBIENTE TITANIUM TREND HIGHLINE COMFORTLINE TRENDLINE
    AMG MSPORT M-SPORT SLINE S-LINE RLINE R-LINE FSPORT F-SPORT PLUS PRO BASE STANDARD
    AT MT CVT DSG AUTO AUTOMATIC MANUAL
    SEDAN HATCHBACK WAGON ESTATE UNIVERSAL COUPE CABRIO CONVERTIBLE LIFTBACK VAN
    УНІВЕРСАЛ СЕДАН ХЕТЧБЕК КУПЕ
    CLASS KLASSE КЛАС КЛАСС
    """.split()
)
# Makes whose models the register writes as factory codes (ВАЗ 2170) while sellers mostly give
# their names (Priora): a name against a code gets no verdict.
_FACTORY_CODE_MAKES = frozenset(("LADA", "ZAZ", "GAZ", "UAZ"))
# "3 series": BMW's series, the first digit of its model codes (320D, 330I).
_SERIES_WORDS = frozenset(("SERIES", "SERIE", "СЕРІЯ", "СЕРИЯ"))
_DISPLACEMENT = re.compile(r"\b\d\.\d\b")
_MODEL_SPLIT = re.compile(r"[\s\-_./,()+]+|(?<=[A-ZА-ЯІЇЄҐ])(?=\d)|(?<=\d)(?=[A-ZА-ЯІЇЄҐ])")
# A model code's letters typed in Cyrillic look-alikes (Х5, Е 220): short tokens only, since a
# longer all-look-alike word is a Cyrillic name (КАМРІ), not a code.
_CODE_LETTERS = 2


@lru_cache(maxsize=65536)
def model_tokens(model: str, make: str = "") -> tuple[str, ...]:
    """Comparable model tokens: case, spacing and letter/digit joins removed, trims dropped.

    ``IS 250``, ``IS250`` and ``is-250`` all give ``("IS", "250")``. A leading make repeated in
    the model field (``MERCEDES-BENZ E 220``) is dropped. The first token always stays, even
    when it looks like a trim word, because for some cars it is the model (``GT``).
    """
    text = _DISPLACEMENT.sub(" ", model.upper())
    tokens = [_code_token(token) for token in _MODEL_SPLIT.split(text) if token]
    if make and tokens:
        # on tokens, so that a make glued to the number (MAZDA3) is dropped too
        inner_make, rest = split_brand(" ".join(tokens))
        if inner_make == make:
            tokens = rest.split()
    if not tokens:
        return ()
    return (tokens[0], *[token for token in tokens[1:] if token not in _TRIM_WORDS])


def _code_token(token: str) -> str:
    if len(token) <= _CODE_LETTERS and all(ch in _PLATE_CYRILLIC for ch in token):
        return token.translate(_TO_LATIN)
    return token


def normalise_model(model: str, make: str = "") -> str:
    """Model key stored next to the raw value: tokens joined by one space."""
    return " ".join(model_tokens(model, make))


@lru_cache(maxsize=65536)
def register_make_model(brand: str, model: str) -> tuple[str, str]:
    """Canonical (make, model key) for a register row whose BRAND may also hold the model."""
    make, rest = split_brand(brand)
    rest_tokens, model_tokens_ = model_tokens(rest, make), model_tokens(model, make)
    if not rest_tokens or rest_tokens == model_tokens_[: len(rest_tokens)]:
        return make, " ".join(model_tokens_)
    if not model_tokens_ or model_tokens_ == rest_tokens[: len(model_tokens_)]:
        return make, " ".join(rest_tokens)
    return make, " ".join((*rest_tokens, *model_tokens_))


def declared_model(make: str, model: str) -> str:
    """A seller's model, with the model line a declared make names (Range Rover + Evoque). Other
    words in the make field (KIA MOTORS) are not the model's."""
    make_key = _make_key(make)
    if make_key not in _MODEL_LINE_MAKES:
        return model
    return register_make_model(make_key, model)[1]


def compare_model(declared: str, registered: str, make: str = "") -> Match:
    """Exact token match, or SOFT when one is a token prefix of the other (GOLF vs GOLF PLUS),
    a series of the other's code (3 SERIES vs 320D) or a Soviet code of its modification (2107
    vs 21074). Names in different scripts (ГОЛЬФ vs GOLF) get no verdict."""
    left, right = model_tokens(declared, make), model_tokens(registered, make)
    if not left or not right:
        return Match.UNKNOWN
    if left == right or "".join(left) == "".join(right):
        return Match.MATCH
    shorter, longer = sorted((left, right), key=len)
    if longer[: len(shorter)] == shorter:
        return Match.SOFT
    if _in_series(left, right) or _in_series(right, left):
        return Match.SOFT
    if len(left) == len(right) and all(map(_same_or_modification, left, right)):
        return Match.SOFT
    if _other_scripts(" ".join(left), " ".join(right)):
        return Match.UNKNOWN
    if make in _FACTORY_CODE_MAKES and {left[0].isdigit(), right[0].isdigit()} == {True, False}:
        return Match.UNKNOWN
    return Match.MISMATCH


def _in_series(series: tuple[str, ...], model: tuple[str, ...]) -> bool:
    """``3 SERIES`` against a three-digit code of that series (``320 D``)."""
    if len(series) != 2 or series[1] not in _SERIES_WORDS or len(series[0]) != 1:
        return False
    code = model[0]
    return series[0].isdigit() and len(code) == 3 and code.isdigit() and code[0] == series[0]


def _same_or_modification(a: str, b: str) -> bool:
    """Soviet model codes: four digits name the model, a fifth its modification (21074)."""
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    shapes = (len(short), len(long)) == (4, 5) and short.isdigit() and long.isdigit()
    return shapes and long.startswith(short)


# --- colours ------------------------------------------------------------------------------------

# Canonical palette -> words from the register (Ukrainian, upper-case), listings (English,
# Ukrainian, Russian). Matching is on word stems so that inflected forms (чорна, чорне) count.
_COLOUR_WORDS: dict[str, tuple[str, ...]] = {
    "black": ("black", "чорн", "черн"),
    "white": ("white", "біл", "бел", "pearl white"),
    "grey": ("grey", "gray", "сір", "сер", "графіт", "graphite", "асфальт"),
    "silver": ("silver", "сріб", "серебр"),
    "red": ("red", "червон", "красн", "cherry", "вишнев"),
    "burgundy": ("burgundy", "maroon", "wine", "бордов"),
    "blue": ("blue", "navy", "син", "темно-син"),
    "light_blue": ("light blue", "sky blue", "голуб", "блакит"),
    "green": ("green", "зелен", "олив", "olive", "хакі", "khaki"),
    "yellow": ("yellow", "жовт", "желт"),
    "orange": ("orange", "помаранч", "оранж"),
    "brown": ("brown", "коричн", "шоколад", "chocolate"),
    "beige": ("beige", "беж", "cream", "кремов", "пісочн", "sand"),
    "gold": ("gold", "золот"),
    "purple": ("purple", "violet", "фіолет", "фиолет", "бузков", "lilac"),
    "pink": ("pink", "рожев", "розов"),
}
# Pairs a camera, a seller and a registry clerk plausibly name differently for one car.
_NEAR_COLOURS = frozenset(
    frozenset(pair)
    for pair in (
        ("grey", "silver"),
        ("white", "silver"),
        ("black", "grey"),
        ("blue", "light_blue"),
        ("red", "burgundy"),
        ("burgundy", "purple"),
        ("brown", "beige"),
        ("beige", "gold"),
        ("gold", "yellow"),
        ("yellow", "orange"),
        ("orange", "red"),
        ("white", "beige"),
        ("purple", "blue"),
    )
)
# Longest stem first so "light blue" beats "blue" and "темно-син" beats "син".
_COLOUR_STEMS = sorted(
    ((stem, colour) for colour, stems in _COLOUR_WORDS.items() for stem in stems),
    key=lambda item: -len(item[0]),
)
_COLOUR_MODIFIERS = re.compile(
    r"\b(dark|light|metallic|metalic|pearl|matte|matt|темно|світло|металік|металик|перламутр)\b"
)


@lru_cache(maxsize=4096)
def colour_parts(text: str) -> tuple[str, ...]:
    """Palette names of every colour a text names, first named first: a compound colour
    (сіро-синій, grey-blue) names two."""
    value = " ".join(text.lower().replace("ё", "е").split())
    parts: list[str] = []
    for stem, colour in _COLOUR_STEMS:
        if " " in stem and stem in value:
            parts.append(colour)
            value = value.replace(stem, " ")
    value = _COLOUR_MODIFIERS.sub(" ", value)
    for word in re.split(r"[\s\-/,]+", value):
        colour = next((colour for stem, colour in _COLOUR_STEMS if word.startswith(stem)), "")
        if colour and colour not in parts:
            parts.append(colour)
    return tuple(parts)


def normalise_colour(text: str) -> str:
    """Canonical palette name for a colour word, or "" when blank or unknown."""
    parts = colour_parts(text)
    return parts[0] if parts else ""


def compare_colour(declared: str, registered: str) -> Match:
    """MATCH on the same colour; SOFT on near colours or a compound sharing a part."""
    left, right = colour_parts(declared), colour_parts(registered)
    if not left or not right:
        return Match.UNKNOWN
    if left[0] == right[0]:
        return Match.MATCH
    if any(a == b or frozenset((a, b)) in _NEAR_COLOURS for a in left for b in right):
        return Match.SOFT
    return Match.MISMATCH


# --- register operations -----------------------------------------------------------------------

# Files of 2013-2020 put the code in front of the name ("530 - ЗНЯТТЯ З ОБЛIКУ ..."), and their
# names mix Latin letters into Cyrillic words (ОБЛIКУ with a Latin I).
_OPERATION_CODE = re.compile(r"^\s*\d+\s*-\s*")
_OPERATION_LOOKALIKES = str.maketrans("ABCEHIKMOPTXY", "АВСЕНІКМОРТХУ")
# The open data's removals from the register (for sale through a trader, export, scrapping, a
# court's decision, a move to another region...) all name the operation first: ЗНЯТТЯ. Names
# that merely mention it undo or follow a removal (СКАСУВАННЯ ЗНЯТТЯ, ПОНОВЛЕННЯ ... ПІСЛЯ
# УМОВН. ЗНЯТТЯ, ПЕРЕРЕЄСТРАЦІЯ ... ЗНЯТТЯМ), and a conditional one (УМОВНЕ ЗНЯТТЯ: no
# inspection, or a resale in progress) leaves the car its plates and papers.
_DEREGISTRATION = "ЗНЯТТЯ"


@lru_cache(maxsize=1024)
def is_deregistration(oper_name: str) -> bool:
    """The operation takes the car off the register: after it, the plate is on no registered car."""
    return _operation(oper_name).split(None, 1)[:1] == [_DEREGISTRATION]


def _operation(oper_name: str) -> str:
    return _OPERATION_CODE.sub("", oper_name.upper()).translate(_OPERATION_LOOKALIKES)


class Removal(enum.StrEnum):
    """What a removal from the register says became of the car."""

    EXPORT = "export"  # taken out of Ukraine
    SCRAPPED = "scrapped"  # scrapped or written off
    SALE = "sale"  # for sale through a trader, or a sale contract signed at a service centre
    OTHER = "other"  # a court's decision, an annulled registration, a move, no reason given


# Word stems of the open data's removals, both spellings of the scrapping (УТИЛ-, УТІЛ-) included.
_REMOVAL_WORDS = (
    (Removal.EXPORT, ("ВИВЕЗЕН", "КОРДОН", "МЕЖІ УКРАЇНИ")),
    (Removal.SCRAPPED, ("УТИЛІЗАЦ", "УТІЛІЗАЦ", "ВИБРАКОВ", "ВИБРАКУВАН")),
    (Removal.SALE, ("РЕАЛІЗАЦ", "ПРОДАЖ", "ТОРГОВ", "ДОГОВІР")),
)


@lru_cache(maxsize=1024)
def removal_reason(oper_name: str) -> Removal:
    """What a removal (``is_deregistration``) says became of the car, from its name."""
    name = _operation(oper_name)
    return next(
        (reason for reason, words in _REMOVAL_WORDS if any(w in name for w in words)),
        Removal.OTHER,
    )


# --- the same keys in SQL (the import normalises in PostgreSQL) -----------------------------------
# Each is a format string taking one SQL text expression. They agree with the Python functions
# above for every value they accept; the import hands the others to Python (see registry.loaders).

_PLATE_SEPARATORS = " -_.·|\t"
# The plate key's fast path (recognition.pipeline.regions.normalise_plate): upper-case,
# Cyrillic look-alikes to Latin, separators dropped (translate() deletes the characters of its
# second argument that the third one lacks).
PLATE_LATIN_SQL = (
    "translate(upper({0}), '"
    + "".join(CYRILLIC_TO_LATIN)
    + _PLATE_SEPARATORS.replace("\t", "' || chr(9) || '")
    + "', '"
    + "".join(CYRILLIC_TO_LATIN.values())
    + "')"
)
# normalise_vin for ASCII text (the import sends other VINs to Python).
VIN_SQL = "regexp_replace(upper({0}), '[^A-Z0-9]', '', 'g')"

_DATE_SQL = {
    # format -> (length, separator and its places, (day, month, year start), year length, offset)
    "YYYY-MM-DD": (10, "-", (5, 8), (9, 6, 1), 4, 0),
    "DD.MM.YYYY": (10, ".", (3, 6), (1, 4, 7), 4, 0),
    "DD.MM.YY": (8, ".", (3, 6), (1, 4, 7), 2, 2000),
}


def date_parts_sql(expression: str, date_format: str) -> tuple[str, str, str]:
    """SQL for (day, month, year) of a register date, NULL where the text has another shape.

    The shape is checked with length, substr and translate, not a regex: cheaper per row.
    """
    length, sep, (first, second), (day, month, year), year_len, offset = _DATE_SQL[str(date_format)]
    shape = (
        f"length({expression}) = {length} AND substr({expression}, {first}, 1) = '{sep}' "
        f"AND substr({expression}, {second}, 1) = '{sep}' "
        f"AND translate({expression}, '0123456789', '') = '{sep}{sep}'"
    )

    def part(start: int, size: int, add: int = 0) -> str:
        value = f"substr({expression}, {start}, {size})::int" + (f" + {add}" if add else "")
        return f"CASE WHEN {shape} THEN {value} END"

    return part(day, 2), part(month, 2), part(year, year_len, offset)
