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
    "DAEWOO": ("ДЕУ", "DAEWOO MOTORS"),
    "LADA": ("ВАЗ", "VAZ", "LADA VAZ", "ЛАДА"),
    "ZAZ": ("ЗАЗ",),
    "GAZ": ("ГАЗ",),
    "UAZ": ("УАЗ",),
    "AUDI": ("АУДІ", "АУДИ"),
    "OPEL": ("ОПЕЛЬ",),
    "PEUGEOT": ("ПЕЖО",),
    "CITROEN": ("CITROËN", "СІТРОЕН", "СИТРОЕН"),
    "MITSUBISHI": ("МІЦУБІСІ", "МИЦУБИСИ"),
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


def _make_key(text: str) -> str:
    return " ".join(re.sub(r"[-_./]+", " ", text.upper()).split())


_MAKE_INDEX: dict[str, str] = {}
for _canonical, _aliases in _MAKE_ALIASES.items():
    for _alias in (_canonical, *_aliases):
        _MAKE_INDEX[_make_key(_alias)] = _canonical
_MAX_MAKE_WORDS = max(len(key.split()) for key in _MAKE_INDEX)


@lru_cache(maxsize=16384)
def split_brand(brand: str) -> tuple[str, str]:
    """Split a BRAND field into (canonical make, model words it also holds).

    The register sometimes writes the model into BRAND (``TESLA MODEL X``); the longest known
    alias prefix wins, so ``MERCEDES BENZ E 220`` is MERCEDES-BENZ + ``E 220``. An unknown brand
    is returned cleaned with no model part, since there is no safe place to cut it.
    """
    words = _make_key(brand).split()
    for size in range(min(len(words), _MAX_MAKE_WORDS), 0, -1):
        canonical = _MAKE_INDEX.get(" ".join(words[:size]))
        if canonical is not None:
            return canonical, " ".join(words[size:])
    return " ".join(words), ""


def normalise_make(text: str) -> str:
    """Canonical make for a seller's or register's make text ("" when blank)."""
    return split_brand(text)[0]


def compare_make(declared: str, registered: str) -> Match:
    left, right = normalise_make(declared), normalise_make(registered)
    if not left or not right:
        return Match.UNKNOWN
    return Match.MATCH if left == right else Match.MISMATCH


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
    """.split()
)
_DISPLACEMENT = re.compile(r"\b\d\.\d\b")
_MODEL_SPLIT = re.compile(r"[\s\-_./,()]+|(?<=[A-ZА-ЯІЇЄҐ])(?=\d)|(?<=\d)(?=[A-ZА-ЯІЇЄҐ])")


@lru_cache(maxsize=65536)
def model_tokens(model: str, make: str = "") -> tuple[str, ...]:
    """Comparable model tokens: case, spacing and letter/digit joins removed, trims dropped.

    ``IS 250``, ``IS250`` and ``is-250`` all give ``("IS", "250")``. A leading make repeated in
    the model field (``MERCEDES-BENZ E 220``) is dropped. The first token always stays, even
    when it looks like a trim word, because for some cars it is the model (``GT``).
    """
    text = _DISPLACEMENT.sub(" ", model.upper())
    if make:
        inner_make, rest = split_brand(text)
        if inner_make == make:
            text = rest
    tokens = [token for token in _MODEL_SPLIT.split(text) if token]
    if not tokens:
        return ()
    return (tokens[0], *[token for token in tokens[1:] if token not in _TRIM_WORDS])


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


def compare_model(declared: str, registered: str, make: str = "") -> Match:
    """Exact token match, or SOFT when one is a token prefix of the other (GOLF vs GOLF PLUS)."""
    left, right = model_tokens(declared, make), model_tokens(registered, make)
    if not left or not right:
        return Match.UNKNOWN
    if left == right or "".join(left) == "".join(right):
        return Match.MATCH
    shorter, longer = sorted((left, right), key=len)
    if longer[: len(shorter)] == shorter:
        return Match.SOFT
    return Match.MISMATCH


# --- colours ------------------------------------------------------------------------------------

# Canonical palette -> words from the register (Ukrainian, upper-case), listings (English,
# Ukrainian, Russian). Matching is on word stems so that inflected forms (чорна, чорне) count.
_COLOUR_WORDS: dict[str, tuple[str, ...]] = {
    "black": ("black", "чорн", "черн"),
    "white": ("white", "біл", "бел", "pearl white"),
    "grey": ("grey", "gray", "сір", "сер", "графіт", "graphite", "асфальт"),
    "silver": ("silver", "срібл", "серебр"),
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
def normalise_colour(text: str) -> str:
    """Canonical palette name for a colour word, or "" when blank or unknown."""
    value = " ".join(text.lower().replace("ё", "е").split())
    if not value:
        return ""
    for stem, colour in _COLOUR_STEMS:
        if " " in stem and stem in value:
            return colour
    value = _COLOUR_MODIFIERS.sub(" ", value)
    for word in re.split(r"[\s\-/,]+", value):
        for stem, colour in _COLOUR_STEMS:
            if word.startswith(stem):
                return colour
    return ""


def compare_colour(declared: str, registered: str) -> Match:
    left, right = normalise_colour(declared), normalise_colour(registered)
    if not left or not right:
        return Match.UNKNOWN
    if left == right:
        return Match.MATCH
    if frozenset((left, right)) in _NEAR_COLOURS:
        return Match.SOFT
    return Match.MISMATCH


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
