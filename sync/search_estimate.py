"""How many items hold a search's words on PostgreSQL, from search_vector's statistics read
once per process and minute, not asked of the planner per search (issue 17).

sync/search.py picks PostgreSQL's search form by this estimate (the few form, or the window
and where it starts), never its answer: a wrong one costs time, not rows. The planner's
estimate (EXPLAIN, sync.search_pg.ESTIMATE) was a round trip of its own before every search,
on a busy 2-core machine about as dear as a small search. The planner computes it from
pg_statistic (ts_selfuncs.c's tsquery_opr_selec), so that is done here with the same numbers:

- a word listed in the column's most common elements: its frequency; any other word:
  min(0.005, the lowest listed frequency / 2);
- words of a phrase, and phrases, all required: the product; a phrase asked once per weight
  (sync.search_pg.tsquery_text): s + s - s * s, twice, as the planner ORs them;
- times the rows without nulls, and the table's rows scaled to its pages now, as the planner
  does (estimate_rel_size), rounded, at least 1.

Words are folded as the `plaza_words` configuration folds them (unaccent, then lower case),
as near as Python gets: a word folded otherwise is taken as rare (the few form is tried; it
gives up past its cap and the window runs). The statistics change when ANALYZE runs
(autovacuum, sync/pg_analyze.py), the table's size with every write, so both are read again
after STATISTICS_TTL. Without statistics (a table not analyzed yet) the planner is asked.
"""

from __future__ import annotations

import time
import unicodedata
from dataclasses import dataclass
from typing import Any

STATISTICS_TTL = 60.0  # seconds a process keeps an index's statistics
DEFAULT_MATCH = 0.005  # ts_selfuncs.c's DEFAULT_TS_MATCH_SEL

# search_vector's most common elements and their frequencies (two more numbers than elements:
# the lowest and highest frequency), its null fraction, and what estimate_rel_size reads.
STATISTICS = """
    SELECT CAST(CAST(s.most_common_elems AS text) AS text[]), s.most_common_elem_freqs,
           s.null_frac, c.reltuples, c.relpages,
           pg_relation_size(c.oid) / CAST(current_setting('block_size') AS bigint)
    FROM pg_class AS c
    JOIN pg_namespace AS n ON n.oid = c.relnamespace
    LEFT JOIN pg_stats AS s
        ON s.schemaname = n.nspname AND s.tablename = c.relname
        AND s.attname = 'search_vector'
    WHERE c.oid = to_regclass('items')"""

# unaccent folds these letters, which have no decomposition in Unicode (NFKD keeps them).
_UNACCENT = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o",
                           "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D"})  # fmt: skip


@dataclass(frozen=True)
class WordStatistics:
    """What the planner knows of search_vector: its common words' frequencies, the lowest of
    them, the fraction of null vectors and the table's estimated rows."""

    frequencies: dict[str, float]
    lowest: float
    null_fraction: float
    rows: float

    def selectivity(self, word: str) -> float:
        found = self.frequencies.get(lexeme(word))
        return found if found is not None else min(DEFAULT_MATCH, self.lowest / 2)

    def estimate(self, phrases: list[list[str]]) -> int:
        """Items holding every phrase (each a list of words), as the planner estimates them."""
        selectivity = 1.0
        for words in phrases:
            one = 1.0
            for word in words:
                one *= self.selectivity(word)
            if len(words) > 1:  # asked once per weight, ORed
                either = _clamp(one + one - one * one)
                one = _clamp(either + one - either * one)
            selectivity = _clamp(selectivity * one)
        rows = self.rows * selectivity * (1.0 - self.null_fraction)
        return 1 if rows <= 1 else round(rows)


def lexeme(word: str) -> str:
    """`word` as the `plaza_words` configuration stores it: accents removed, lower case."""
    decomposed = unicodedata.normalize("NFKD", word.translate(_UNACCENT))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


_cache: dict[str, tuple[float, WordStatistics | None]] = {}


def statistics(db: Any) -> WordStatistics | None:
    """The index's word statistics, read at most once per STATISTICS_TTL per process and
    database; None when there are none (not analyzed yet)."""
    key, now = db.url or str(id(db)), time.monotonic()
    cached = _cache.get(key)
    if cached is not None and now - cached[0] < STATISTICS_TTL:
        return cached[1]
    found = _read(db)
    _cache[key] = (now, found)
    return found


def forget() -> None:
    """Drops every cached statistic (tests; after an ANALYZE in this process)."""
    _cache.clear()


def _read(db: Any) -> WordStatistics | None:
    row = db.execute(STATISTICS).fetchone()
    if row is None:
        return None
    elements, numbers, null_fraction, reltuples, relpages, pages = row
    if not elements or not numbers or len(numbers) != len(elements) + 2:
        return None
    if reltuples < 0 or relpages <= 0:  # not analyzed, or never vacuumed
        return None
    frequencies = dict(zip(elements, numbers, strict=False))
    rows = round(reltuples / relpages * pages)  # estimate_rel_size: density times pages now
    return WordStatistics(frequencies, numbers[-2], null_fraction or 0.0, rows)


def _clamp(probability: float) -> float:
    return min(max(probability, 0.0), 1.0)
