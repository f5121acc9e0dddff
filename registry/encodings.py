"""Which text encoding a register file is in: UTF-8 (with or without BOM) or cp1251, else a
clear refusal. Pure, no Django; ``registry.importers`` sniffs every source with it."""

from __future__ import annotations

import codecs
import re


class RegisterFormatError(ValueError):
    """The file as a whole cannot be imported (unknown header, unsupported encoding)."""


def detect_encoding(sample: bytes) -> str:
    """``utf-8-sig``, ``utf-8`` or ``cp1251``; refuses anything else with a clear message.

    A few undecodable lines in a UTF-8 file are rejects, not a reason to guess another
    encoding, so cp1251 is chosen only when most non-ASCII lines fail as UTF-8 and read as
    Cyrillic in cp1251.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    # UTF-32-LE's mark begins with UTF-16-LE's, so it is looked for first.
    if sample.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise RegisterFormatError(_WIDE.format("UTF-32"))
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise RegisterFormatError(_WIDE.format("UTF-16"))
    if wide := _wide_encoding(sample):
        raise RegisterFormatError(_WIDE.format(f"{wide} (without a byte order mark)"))
    lines = [line for line in sample.split(b"\n")[:-1] if not line.isascii()]
    if not lines:
        return "utf-8"
    failed = 0
    for line in lines:
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            failed += 1
    if failed * 2 <= len(lines):
        return "utf-8"
    text = b"\n".join(lines).decode("cp1251", errors="replace")
    non_ascii = [ch for ch in text if ord(ch) > 127]
    cyrillic = [ch for ch in non_ascii if "\u0400" <= ch <= "\u04ff"]
    # The register writes its words in upper case; Latin-1 accents (é, è) land on lower-case
    # Cyrillic in cp1251, so case tells a real cp1251 register from mojibake.
    upper = sum(1 for ch in cyrillic if ch.isupper())
    if non_ascii and len(cyrillic) / len(non_ascii) >= 0.8 and upper / len(cyrillic) >= 0.7:
        if _looks_latin1(text):
            raise RegisterFormatError(
                "file looks like Latin-1 (ISO-8859-1) text, not Windows-1251 (cp1251): "
                "its accented letters sit inside Latin words (CITROËN read as cp1251 is "
                "CITROЛN), and a Latin-1 file cannot hold the register's Cyrillic; "
                "re-save it as UTF-8"
            )
        return "cp1251"
    raise RegisterFormatError(
        "file is neither UTF-8 nor Windows-1251 (cp1251) text; re-save it as UTF-8"
    )


_WIDE = (
    "file is {}, which is not supported: the register is published in UTF-8; convert it to UTF-8"
)


def _wide_encoding(sample: bytes) -> str | None:
    """UTF-16 or UTF-32 without a byte order mark, told by where the NUL bytes of the header
    (ASCII) fall: each character is one byte and one NUL (UTF-16) or three (UTF-32). Read as
    UTF-8, such a file would pass for text whose every line is a NUL-byte reject."""
    head = sample[: min(len(sample), 256) // 4 * 4]
    if not head:
        return None
    quarter = len(head) // 4
    nul = [head[i::4].count(0) / quarter for i in range(4)]  # share of NULs at each offset mod 4
    if nul[0] < 0.1 and min(nul[2], nul[3]) > 0.9:
        return "UTF-32-LE"
    if nul[3] < 0.1 and min(nul[0], nul[1]) > 0.9:
        return "UTF-32-BE"
    if max(nul[0], nul[2]) < 0.1 and min(nul[1], nul[3]) > 0.5:
        return "UTF-16-LE"
    if max(nul[1], nul[3]) < 0.1 and min(nul[0], nul[2]) > 0.5:
        return "UTF-16-BE"
    return None


_CYRILLIC_RUN = re.compile(r"[\u0400-\u04ff]+")
_MIXED_WORD = re.compile(r"[A-Za-z][\u0400-\u04ff]|[\u0400-\u04ff][A-Za-z]")


def _looks_latin1(text: str) -> bool:
    """Upper-case Latin-1 accents (À-ß) decode as upper-case Cyrillic in cp1251, so case cannot
    tell them apart; word shape can. Ukrainian words are runs of Cyrillic letters; Latin-1
    accents decoded as cp1251 are single Cyrillic letters glued to Latin ones (CITROЛN)."""
    runs = _CYRILLIC_RUN.findall(text)
    if not runs:
        return False
    mean_run = sum(map(len, runs)) / len(runs)
    glued = len(_MIXED_WORD.findall(text))
    return mean_run < 2.5 or glued * 2 >= len(runs)
