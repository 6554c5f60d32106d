"""Comment and message text: the check of a body, Markdown rendered to safe HTML, and the
@mentions written in it.

Two layers keep people's HTML out of other people's browsers: markdown-it-py's "commonmark"
preset with raw HTML off (anything that looks like a tag is escaped as text) and linkify off,
then nh3 (a maintained sanitiser) with a small allow-list, which also drops link schemes other
than http, https and mailto and adds rel="nofollow noopener noreferrer" to every link.

Mentions come in two spellings: `@[Display Name](oid)`, what the autocomplete inserts, and a
plain `@upn` (e.g. `@ada@firm.example`). They are found by the Markdown parser itself, so a
mention inside a code span or block is just code, and what is notified is what is rendered.
Rendering names a mentioned person by the directory's display name, never by the typed label.
A comment being written is parsed once (`parse`): its mentions and its HTML come from the same
tokens. Comments and chat messages take the same body check (`check_body`), with their own
limit and words (`TextKind`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from overlay_app.errors import N_, BadInput, PayloadTooLarge, Phrase

MAX_BODY_CHARS = 10_000

# `@[label](oid)`: labels are one line; object ids are GUIDs (any hex-and-dash id is accepted).
LABELLED_MENTION = re.compile(r"@\[([^\[\]\n]{1,200})\]\(([0-9A-Za-z-]{1,64})\)")
# `@upn`: a user principal name is an address-like name@domain (guests: name#EXT#@domain).
PLAIN_MENTION = re.compile(
    r"@([A-Za-z0-9._%+'#-]{1,80}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+)"
)

ALLOWED_TAGS = {
    "p", "br", "hr", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a",
    "h1", "h2", "h3", "h4", "h5", "h6",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
ALLOWED_CLASSES = {"a": {"mention"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow noopener noreferrer"


@dataclass(frozen=True)
class TextKind:
    """What a body is written as, for its check: the noun its refusals use, its longest
    length and how to make a longer one fit."""

    noun: str
    limit: int
    how_to_fit: str


COMMENT = TextKind(N_("comment"), MAX_BODY_CHARS, N_("split it into replies"))


def check_body(body: Any, kind: TextKind) -> str:
    """The body, if it is text that is not all whitespace (400) and not too long (413)."""
    if not isinstance(body, str):
        raise BadInput('"body" must be text: write something first')
    if not body.strip():
        raise BadInput("write something first")
    if len(body) > kind.limit:
        raise PayloadTooLarge(
            "A %(noun)s can be at most %(most)s characters; this one has %(length)s."
            " Shorten it or %(how_to_fit)s.",
            noun=Phrase(kind.noun),
            most=f"{kind.limit:,}",
            length=f"{len(body):,}",
            how_to_fit=Phrase(kind.how_to_fit),
        )
    return body


@dataclass(frozen=True)
class MentionRef:
    """A mention as written: `ref` is an object id (labelled form) or a UPN (plain form)."""

    ref: str
    label: str  # what the writer typed: the label, or the UPN
    by_upn: bool

    @property
    def key(self) -> str:
        return self.ref.lower()


@dataclass(frozen=True)
class Mentioned:
    """A mention resolved to a person in the directory."""

    person_id: str
    display_name: str


def _mention_rule(state: StateInline, silent: bool) -> bool:
    """Inline rule: a mention starts at '@' that does not continue a word."""
    src, pos = state.src, state.pos
    if src[pos] != "@" or (pos > 0 and (src[pos - 1].isalnum() or src[pos - 1] in "._-@")):
        return False
    labelled = LABELLED_MENTION.match(src, pos)
    plain = None if labelled else PLAIN_MENTION.match(src, pos)
    found = labelled or plain
    if found is None:
        return False
    if not silent:
        token = state.push("mention", "", 0)
        if labelled:
            token.meta = {"ref": labelled.group(2), "label": labelled.group(1), "by_upn": False}
        else:
            token.meta = {"ref": plain.group(1), "label": plain.group(1), "by_upn": True}
        token.content = found.group(0)
    state.pos = found.end()
    return True


def _render_mention(self, tokens: list[Token], idx: int, options, env: dict) -> str:
    token = tokens[idx]
    person = env.get("mentioned", {}).get(token.meta["ref"].lower())
    if person is None:  # not a person (e.g. an address that looks like a UPN): plain text
        return escape(token.content)
    return (
        f'<a class="mention" href="/people/{escape(person.person_id)}">'
        f"@{escape(person.display_name)}</a>"
    )


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable("image")  # no remote images: they track readers and are not needed in comments
    md.inline.ruler.before("link", "mention", _mention_rule)
    md.add_render_rule("mention", _render_mention)
    return md


MARKDOWN = _markdown()


def sanitise(html: str) -> str:
    """Keep only the allow-listed tags, attributes, classes and URL schemes."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        strip_comments=True,
    )


@dataclass(frozen=True)
class ParsedBody:
    """A body's Markdown tokens: what it mentions and its HTML are both read from them."""

    tokens: tuple[Token, ...]

    def mention_refs(self) -> list[MentionRef]:
        """The mentions, in order of first appearance, without repeats."""
        found: dict[str, MentionRef] = {}
        for block in self.tokens:
            for token in block.children or ():
                if token.type == "mention":
                    ref = MentionRef(token.meta["ref"], token.meta["label"], token.meta["by_upn"])
                    found.setdefault(ref.key, ref)
        return list(found.values())

    def html(self, mentioned: dict[str, Mentioned] | None = None) -> str:
        """Safe HTML; `mentioned` maps MentionRef.key to the resolved person."""
        env = {"mentioned": mentioned or {}}
        return sanitise(MARKDOWN.renderer.render(self.tokens, MARKDOWN.options, env)).strip()


def parse(body: str) -> ParsedBody:
    """The body parsed once, for both its mentions and its HTML (rendering does not parse)."""
    return ParsedBody(tuple(MARKDOWN.parse(body)))


def render(body: str, mentioned: dict[str, Mentioned] | None = None) -> str:
    """Safe HTML for a comment body; `mentioned` maps MentionRef.key to the resolved person."""
    return parse(body).html(mentioned)


def mention_refs(body: str) -> list[MentionRef]:
    """The mentions in a body, in order of first appearance, without repeats."""
    return parse(body).mention_refs()


# A mention's markup inside a search snippet: whole, or cut at either end by the snippet's
# window. Highlight marks (private-use characters) may sit anywhere inside it.
_SNIPPET_MENTION = re.compile(r"@\[([^\[\]\n]{0,200})\]\([0-9A-Za-z\ue000\ue001-]{0,80}\)?")
_CUT_MENTION_TAIL = re.compile(r"^([^\[\]]*)\]\([0-9A-Za-z\ue000\ue001-]{0,80}\)")
_CUT_MENTION_HEAD = re.compile(r"@\[([^\[\]]*)$")


def snippet_without_markup(snippet: str) -> str:
    """A plain-text search snippet with every mention shown as @Name, never as its markup
    (`@[Name](id)`), even where the snippet's window cut the mention in two."""
    text = _SNIPPET_MENTION.sub(lambda m: "@" + m.group(1), snippet)
    text = _CUT_MENTION_TAIL.sub(lambda m: m.group(1), text)
    return _CUT_MENTION_HEAD.sub(lambda m: "@" + m.group(1), text)


def excerpt(body: str, limit: int = 140) -> str:
    """A one-line plain excerpt of a Markdown body (for notifications): mentions by label."""
    text = LABELLED_MENTION.sub(lambda m: "@" + m.group(1), body)
    text = re.sub(r"[`*_>#~\[\]()]+", "", text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
