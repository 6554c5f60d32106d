"""Every word a person reads is translated: no bare text in a template (outside `{% trans %}`
and `_()`), every marked string in the Dutch catalog, and every Dutch msgstr written (none
empty, none fuzzy)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from jinja2 import Environment

import overlay_app

PACKAGE = Path(overlay_app.__file__).parent
TEMPLATES = PACKAGE / "templates"
CATALOG = PACKAGE / "translations" / "nl" / "LC_MESSAGES" / "messages.po"

# Templates and modules whose strings other work still wraps, skipped until it is merged (paths
# relative to overlay_app/). Empty: everything is wrapped.
PENDING: set[str] = set()
# Attributes a person reads or hears.
SPOKEN_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "label", "aria-description"}
# Words that are the same in every language: names.
NAMES = {"Plaza", "Teams", "SharePoint", "Microsoft 365"}
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "N_": None,
    "NN_": (1, 2),
    "lazy_gettext": None,
    "_l": None,
}


def pending(relative: str) -> bool:
    return any(relative == p or (p.endswith("/") and relative.startswith(p)) for p in PENDING)


def own_templates() -> list[Path]:
    found = sorted(TEMPLATES.rglob("*.html"))
    return [t for t in found if not pending(str(t.relative_to(PACKAGE)))]


def skeleton(source: str) -> str:
    """The template's HTML with every Jinja construct taken out and every translated block
    emptied: what is left as text was written bare."""
    env = Environment(extensions=["jinja2.ext.i18n"])
    parts, in_trans = [], False
    tokens = [token for token in env.lex(source) if token[1] != "whitespace"]
    for index, (_line, kind, value) in enumerate(tokens):
        if kind == "name" and tokens[index - 1][1] == "block_begin":
            in_trans = value in ("trans", "pluralize") or (in_trans and value != "endtrans")
        if kind == "data" and not in_trans:
            parts.append(value)
    return "".join(parts)


class BareText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.bare: list[str] = []
        self.in_code = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.in_code = tag in ("script", "style")
        for name, value in attrs:
            if name in SPOKEN_ATTRIBUTES and value:
                self.check(value)

    def handle_endtag(self, tag: str) -> None:
        self.in_code = False

    def handle_data(self, data: str) -> None:
        if not self.in_code:
            self.check(data)

    def check(self, text: str) -> None:
        words = text.strip()
        for name in NAMES:
            text = text.replace(name, "")
        if any(ch.isalpha() for ch in text):
            self.bare.append(words)


@pytest.mark.parametrize("template", own_templates(), ids=lambda t: str(t.relative_to(TEMPLATES)))
def test_no_bare_text_in_a_template(template: Path) -> None:
    parser = BareText()
    parser.feed(skeleton(template.read_text()))
    parser.close()
    assert parser.bare == []


def dutch() -> dict[str, object]:
    """The catalog by msgid (a plural by its singular), with the `messages_*.po` beside it
    filling its gaps as when compiled (overlay_app/i18n/catalog.py)."""
    found: dict[str, object] = {}
    for path in [*sorted(CATALOG.parent.glob("messages_*.po")), CATALOG]:  # messages.po wins
        with path.open("rb") as source:
            for message in read_po(source, locale="nl"):
                if message.id:
                    found[message.id[0] if isinstance(message.id, tuple) else message.id] = message
    return found


def marked_strings() -> list[tuple[str, str]]:
    """(where, msgid) of every string marked for translation outside PENDING."""
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found = []
    for path, line, message, _comments, _context in extract_from_dir(
        PACKAGE, method_map, options, keywords=KEYWORDS
    ):
        if not pending(path):
            msgid = message[0] if isinstance(message, tuple) else message
            found.append((f"{path}:{line}", msgid))
    return found


def test_every_marked_string_is_in_the_catalog() -> None:
    known = dutch()
    assert [(where, msgid) for where, msgid in marked_strings() if msgid not in known] == []


def test_every_dutch_translation_is_written() -> None:
    unwritten = []
    for msgid, message in dutch().items():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(s.strip() for s in strings):
            unwritten.append(msgid)
    assert unwritten == []


PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")


def placeholders(text: str) -> set[str]:
    return {"".join(found) for found in PLACEHOLDER.findall(text)}


def test_every_translation_keeps_its_placeholders() -> None:
    """A Dutch string that lost %(name)s or {name} would drop a name, or fail to format."""
    wrong = []
    for message in dutch().values():
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        # Each form keeps its own English form's places: the singular may say "someone"
        # where the plural says "%(num)d" (the mail's "someone mentioned you").
        wrong += [
            (ids[0], s)
            for index, s in enumerate(strings)
            if placeholders(s) != placeholders(ids[0] if index == 0 else ids[-1])
        ]
    assert wrong == []
