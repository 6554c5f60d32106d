"""The message catalogs: `translations/<lang>/LC_MESSAGES/messages.po` is the source of truth
(committed); gettext reads compiled `.mo` files, which are never committed. `compiled()` makes
them at app start whenever one is missing or older than its `.po`, so a clean checkout needs no
manual step. They are written beside the `.po` files, or, where the package is read-only (an
installed wheel), into a cache folder of this user's temporary directory.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

SOURCE = Path(__file__).resolve().parent.parent / "translations"
DOMAIN = "messages"


def compiled(source: Path = SOURCE) -> Path:
    """The folder of compiled catalogs for `source`, compiled now where stale."""
    try:
        _compile_all(source, source)
        return source
    except OSError:  # a read-only install: compile into a cache of our own
        tag = hashlib.sha256(str(source).encode()).hexdigest()[:12]
        target = Path(tempfile.gettempdir()) / f"plaza-translations-{os.getuid()}-{tag}"
        _compile_all(source, target)
        return target


def _compile_all(source: Path, target: Path) -> None:
    for po_path in sorted(source.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        parts = [po_path, *sorted(po_path.parent.glob(f"{DOMAIN}_*.po"))]
        mo_path = target / po_path.relative_to(source).with_suffix(".mo")
        newest = max(part.stat().st_mtime for part in parts)
        if mo_path.exists() and mo_path.stat().st_mtime >= newest:
            continue
        compile_po(po_path, mo_path, parts[1:])


def compile_po(po_path: Path, mo_path: Path, more: list[Path] | None = None) -> None:
    """Compile one catalog; written to a temporary name and renamed, so that processes starting
    together (gunicorn workers, test workers) never read a half-written file. `more` are
    catalogs beside it not merged in yet (`messages_more.po`): they fill only its gaps."""
    with po_path.open("rb") as source:
        catalog = read_po(source, locale=po_path.parent.parent.name, domain=DOMAIN)
    for extra in more or []:
        with extra.open("rb") as source:
            for message in read_po(source, locale=po_path.parent.parent.name, domain=DOMAIN):
                present = catalog.get(message.id) if message.id else None
                if message.id and (present is None or not present.string):
                    catalog[message.id] = message
    mo_path.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=mo_path.parent, suffix=".mo.part")
    try:
        with os.fdopen(handle, "wb") as out:
            write_mo(out, catalog)  # fuzzy entries are left out, as msgfmt does
        os.replace(partial, mo_path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
