"""The Ukrainian catalogue (locale/uk/LC_MESSAGES): every text the staff pages mark is translated,
nothing is fuzzy, the placeholders survive, and the committed .mo is the .po compiled."""

from __future__ import annotations

import ast
import gettext
import io
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.utils.translation.template import templatize

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "uk" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
# Ukrainian, as Django's own catalogues count it: one, few, many, and fractions.
UK_PLURALS = 4
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\}")


@dataclass
class Entry:
    context: str | None = None
    msgid: str = ""
    plural: str | None = None
    msgstr: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.context, self.msgid)


def _entries(path: Path) -> list[Entry]:
    """A small reader of the .po format (what makemessages writes); obsolete `#~` entries are
    skipped, as gettext itself does."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry, target = Entry(), None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry.flags |= {flag.strip() for flag in line[2:].split(",")}
                continue
            if line.startswith("#"):
                continue
            keyword, _, rest = line.partition(" ")
            if line.startswith('"'):
                keyword, rest = "", line
            text = ast.literal_eval(rest)
            if keyword == "msgctxt":
                entry.context, target = text, "context"
            elif keyword == "msgid":
                entry.msgid, target = text, "msgid"
            elif keyword == "msgid_plural":
                entry.plural, target = text, "plural"
            elif keyword.startswith("msgstr"):
                entry.msgstr.append(text)
                target = "msgstr"
            elif target == "msgstr":
                entry.msgstr[-1] += text
            elif target is not None:
                setattr(entry, target, getattr(entry, target) + text)
        if entry.msgstr:
            entries.append(entry)
    return entries


def _template_msgids(source: str) -> set[tuple[str | None, str]]:
    """What makemessages extracts from a template: Django turns it into gettext calls."""
    tokens = [
        t
        for t in tokenize.generate_tokens(io.StringIO(templatize(source)).readline)
        if t.type in (tokenize.NAME, tokenize.STRING, tokenize.OP)
    ]
    found = set()
    for i, token in enumerate(tokens):
        if token.string not in {"gettext", "ngettext", "pgettext", "npgettext"}:
            continue
        if tokens[i + 1].string != "(":
            continue
        strings, j = [], i + 2
        while tokens[j].type == tokenize.STRING or tokens[j].string == ",":
            if tokens[j].type == tokenize.STRING:
                strings.append(ast.literal_eval(tokens[j].string))
            j += 1
        context = strings.pop(0) if token.string.startswith(("p", "np")) else None
        found.add((context, strings[0]))
    return found


@pytest.fixture(scope="module")
def catalogue() -> list[Entry]:
    return _entries(PO)


def test_the_header_says_ukrainian_with_its_plural_forms_and_is_not_fuzzy(catalogue):
    header = catalogue[0]
    assert header.msgid == ""
    assert "fuzzy" not in header.flags
    assert "Language: uk\n" in header.msgstr[0]
    assert f"nplurals={UK_PLURALS};" in header.msgstr[0]


def test_every_entry_is_translated_and_none_is_fuzzy(catalogue):
    messages = catalogue[1:]
    assert len(messages) > 300
    assert [e.msgid for e in messages if "fuzzy" in e.flags] == []
    assert [e.msgid for e in messages if not all(s.strip() for s in e.msgstr)] == []
    plurals = [e for e in messages if e.plural is not None]
    assert plurals
    assert [e.msgid for e in plurals if len(e.msgstr) != UK_PLURALS] == []


def test_a_translation_keeps_the_placeholders_of_its_english(catalogue):
    wrong = [
        e.msgid
        for e in catalogue[1:]
        for text in e.msgstr
        if sorted(PLACEHOLDER.findall(text)) != sorted(PLACEHOLDER.findall(e.msgid))
    ]
    assert wrong == []


def test_every_text_a_staff_template_marks_is_in_the_catalogue(catalogue):
    known = {e.key for e in catalogue}
    templates = sorted((ROOT / "templates").rglob("*.html"))
    assert len(templates) > 10
    missing = {
        f"{path.relative_to(ROOT)}: {msgid!r}"
        for path in templates
        for msgid in _template_msgids(path.read_text(encoding="utf-8"))
        if msgid not in known
    }
    assert missing == set(), "run manage.py makemessages -l uk (README.md) and translate"


def test_the_committed_mo_is_the_po_compiled(catalogue):
    # compilemessages after each change of the .po: Django reads only the .mo
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    expected: dict[object, str] = {}
    for entry in catalogue[1:]:
        key = entry.msgid if entry.context is None else f"{entry.context}\x04{entry.msgid}"
        if entry.plural is None:
            expected[key] = entry.msgstr[0]
        else:
            expected.update({(key, n): text for n, text in enumerate(entry.msgstr)})
    compiled = {k: v for k, v in compiled.items() if k != ""}
    assert compiled == expected, "run manage.py compilemessages -l uk --ignore=.venv"
