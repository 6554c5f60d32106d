"""Charts as accessible inline SVG, drawn on the server: no chart library, nothing loaded.

Each chart is an `<svg role="img">` labelled by its own `<title>` and `<desc>` (which states the
figures in words), scales to its container through its viewBox (so a narrow screen never
scrolls sideways), and the page shows the same figures as a table beside it. Drawn narrow (400
units) and bars stacked under their labels, so that scaled down to a phone the words stay legible.
"""

from __future__ import annotations

import hashlib

from flask_babel import gettext
from markupsafe import Markup, escape

WIDTH, ROW, BAR = 400, 40, 14  # a bar row: its label's line, then the bar


def _opening(title: str, desc: str, height: int) -> tuple[str, str]:
    # Named from the title, so that the same figures give the same bytes (a page's charts
    # carry different titles).
    ident = "chart-" + hashlib.sha256(title.encode()).hexdigest()[:8]
    head = (
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="100%"'
        f' preserveAspectRatio="xMinYMin meet" aria-labelledby="{ident}-t {ident}-d">'
        f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(desc)}</desc>'
    )
    return head, "</svg>"


def bars(title: str, labels: list[str], values: list[float | None], unit: str = "") -> Markup:
    """Horizontal bars, one row per label; a missing value is drawn as none and said so.
    Negative values (an E-I index) grow left of a middle axis."""
    height = max(ROW * len(labels), ROW) + 4
    none = gettext("no value")
    said = "; ".join(
        f"{label}: {none if value is None else f'{value}{unit}'}"
        for label, value in zip(labels, values, strict=True)
    )
    head, tail = _opening(title, said or gettext("No data."), height)
    present = [abs(v) for v in values if v is not None] or [1]
    signed = any(v is not None and v < 0 for v in values)
    span = (WIDTH - 60) / (2 if signed else 1)  # room for the value's words past a bar
    zero = span if signed else 0
    scale = span / (max(present) or 1)
    parts = [head]
    for row, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = row * ROW + 4
        parts.append(f'<text x="0" y="{y + 13}" class="chart-label">{escape(_short(label))}</text>')
        bar_top = y + 19
        if value is None:
            parts.append(f'<text x="{zero + 4}" y="{bar_top + 12}" class="chart-value">-</text>')
            continue
        length = abs(value) * scale
        x = zero - length if value < 0 else zero
        parts.append(
            f'<rect x="{x:.1f}" y="{bar_top}" width="{max(length, 1):.1f}" height="{BAR}"'
            ' class="chart-bar"></rect>'
        )
        end = max(x + length, zero) + 4
        parts.append(
            f'<text x="{end:.1f}" y="{bar_top + 12}" class="chart-value">{value}{unit}</text>'
        )
    parts.append(tail)
    return Markup("".join(parts))


def columns(title: str, values: list[int], first_label: str, last_label: str) -> Markup:
    """One column per day, oldest left, with the first and last day named under the axis."""
    height, base = 160, 130
    top = max(values or [0]) or 1
    said = gettext(
        "%(num)s days from %(first)s to %(last)s: %(values)s",
        num=len(values), first=first_label, last=last_label, values=", ".join(map(str, values)),
    )  # fmt: skip
    head, tail = _opening(title, said, height)
    step = WIDTH / max(len(values), 1)
    parts = [head, f'<line x1="0" y1="{base}" x2="{WIDTH}" y2="{base}" class="chart-axis"></line>']
    for index, value in enumerate(values):
        bar = value / top * (base - 10)
        parts.append(
            f'<rect x="{index * step + 1:.1f}" y="{base - bar:.1f}" width="{max(step - 2, 1):.1f}"'
            f' height="{bar:.1f}" class="chart-bar"></rect>'
        )
    parts.append(f'<text x="0" y="{base + 20}" class="chart-label">{escape(first_label)}</text>')
    parts.append(
        f'<text x="{WIDTH}" y="{base + 20}" text-anchor="end" class="chart-label">'
        f"{escape(last_label)}</text>"
    )
    parts.append(tail)
    return Markup("".join(parts))


def _short(label: str, most: int = 44) -> str:
    return label if len(label) <= most else label[: most - 1] + "…"
