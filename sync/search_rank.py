"""Row-local relevance: a search hit's score comes from its own text and the query, nothing else.

FTS5's bm25 weighs each term by corpus-wide statistics (how many rows hold it, the average
length of a column) that count every row, hidden ones included: a hidden file or comment
holding a word moved the score, and so the order, of someone's visible hits, and since the
last word matches as a prefix, hidden text could be read back letter by letter. So FTS5 only
filters (MATCH), and the score keeps bm25's shape with fixed constants in place of the
statistics: every phrase weighs the same, and a column's length is compared with a fixed
typical length. For each phrase of the query and each column:

    weight * credit * (K1 + 1) / (tf + K1 * (1 - B + B * characters / TYPICAL))

where tf counts the phrase's occurrences in the column and credit the same, save that a last
word matched only as a prefix counts PREFIX_SHARE. So a name outranks a path and a path a site
title, a whole word a mere prefix, more occurrences fewer, and a short column a long one; a
query whose every match is a prefix ranks its hits as the whole word would. Equal scores are
ordered by the name, then the ids (ORDER_SQL in SQL, order_key in Python): never by anything
another row holds.

Words are matched as FTS5's unicode61 tokenizer (remove_diacritics) sees them: runs of letters
and digits, case and diacritics ignored. Scoring runs in Python for every visible match (as a
SQL function in sync's search), so what repeats from row to row is computed once per query:
site titles and folders (a path is its folder and the name), kept in the query's Scorer.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from functools import lru_cache

NAME_WEIGHT, PATH_WEIGHT, SITE_WEIGHT, TEXT_WEIGHT = 10.0, 3.0, 1.0, 3.0
# Typical lengths in characters (name, path, site title, a comment or message): fixed numbers,
# never measured from the index.
NAME_LENGTH, PATH_LENGTH, SITE_LENGTH, TEXT_LENGTH = 24.0, 60.0, 12.0, 120.0
K1, B = 1.2, 0.75
PREFIX_SHARE = 0.5
FUNCTION = "plaza_rank"  # in SQL: plaza_rank(name, path, site_title, :terms) = item_score
# The tie-break in SQL over `i` (items); order_key mirrors it (SQLite's lower() folds ASCII).
ORDER_SQL = "lower(coalesce(i.name, '')), i.drive_id, i.item_id"
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_TOKEN = re.compile(r"[^\W_]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_REMEMBERED = 4096  # folders and site titles kept per query
Found = tuple[int, float]  # a phrase's occurrences in a text: (tf, credit)


def folded(text: str) -> str:
    """Lower case without diacritics, as unicode61 with remove_diacritics compares words."""
    text = text.lower()
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def query_terms(text: str) -> str:
    """The query's phrases as JSON (plaza_rank's last argument): the words of each whitespace-
    separated chunk, as sync.search.fts_query makes a phrase of each chunk."""
    phrases = [_TOKEN.findall(folded(chunk)) for chunk in _CONTROL.sub(" ", text).split()]
    return json.dumps([phrase for phrase in phrases if phrase])


class Scorer:
    """One query's scoring: how to find each phrase (the last word also as a prefix), and the
    folders and site titles met so far."""

    def __init__(self, phrases: list[list[str]]) -> None:
        last = len(phrases) - 1
        # One word: str.find (a regex with a lookbehind is four times slower); more: a regex.
        self.finders = [
            phrase[0] if len(phrase) == 1 else _pattern(phrase, prefix=n == last)
            for n, phrase in enumerate(phrases)
        ]
        # When every phrase is one word (the usual query), item() takes a faster road.
        one_word = all(isinstance(finder, str) for finder in self.finders)
        self.words = [(f, n == last) for n, f in enumerate(self.finders)] if one_word else None
        self._folders: dict[str, list[Found]] = {}
        self._sites: dict[str, float] = {}

    def occurrences(self, text: str | None) -> list[Found]:
        """Each phrase's (tf, credit) in the text."""
        low = folded(text) if text else ""
        last = len(self.finders) - 1
        counts = []
        for n, finder in enumerate(self.finders):
            if isinstance(finder, str):
                counts.append(_word_count(low, finder, prefix=n == last))
            else:
                found = finder.findall(low)
                whole = found.count("")
                counts.append((len(found), whole + PREFIX_SHARE * (len(found) - whole)))
        return counts

    def item(self, name: str | None, path: str | None, site_title: str | None) -> float:
        if self.words is not None:
            return self._item_of_words(name or "", path or "") + self._site(site_title)
        score = _score(self.occurrences(name), len(name or ""), NAME_WEIGHT, NAME_LENGTH)
        score += _score(self.occurrences(path), len(path or ""), PATH_WEIGHT, PATH_LENGTH)
        return score + self._site(site_title)

    def _item_of_words(self, name: str, path: str) -> float:
        """item()'s name and path score when every phrase is one word, unrolled (it runs for
        every match: half the time of the general road). No phrase can then span the slash
        before the name, so a path's counts are its folder's, kept, plus its name's."""
        assert self.words is not None
        low = folded(name)
        folder, slash, leaf = path.rpartition("/")
        in_folder, path_low = None, ""
        if slash and leaf == name:
            in_folder = self._folders.get(folder)
            if in_folder is None:
                in_folder = self._remember(self._folders, folder, self.occurrences(folder))
        else:
            path_low = folded(path)
        name_norm = K1 * (1 - B + B * len(name) / NAME_LENGTH)
        path_norm = K1 * (1 - B + B * len(path) / PATH_LENGTH)
        score = 0.0
        for n, (word, prefix) in enumerate(self.words):
            tf, credit = _word_count(low, word, prefix) if word in low else (0, 0.0)
            if in_folder is not None:
                path_tf, path_credit = tf + in_folder[n][0], credit + in_folder[n][1]
            elif word in path_low:
                path_tf, path_credit = _word_count(path_low, word, prefix)
            else:
                path_tf, path_credit = 0, 0.0
            if tf:
                score += NAME_WEIGHT * credit * (K1 + 1) / (tf + name_norm)
            if path_tf:
                score += PATH_WEIGHT * path_credit * (K1 + 1) / (path_tf + path_norm)
        return score

    def text(self, text: str | None) -> float:
        return _score(self.occurrences(text), len(text or ""), TEXT_WEIGHT, TEXT_LENGTH)

    def _site(self, title: str | None) -> float:
        key = title or ""
        score = self._sites.get(key)
        if score is None:
            found = _score(self.occurrences(title), len(key), SITE_WEIGHT, SITE_LENGTH)
            score = self._remember(self._sites, key, found)
        return score

    @staticmethod
    def _remember(memory: dict, key: str, value):
        if len(memory) >= _REMEMBERED:
            memory.clear()
        memory[key] = value
        return value


def _word_count(low: str, word: str, prefix: bool) -> Found:
    """The word's (tf, credit) as a token of `low` (folded), or as a token's start when
    `prefix` (credited PREFIX_SHARE)."""
    tf, credit, at = 0, 0.0, low.find(word)
    while at >= 0:
        end = at + len(word)
        if at == 0 or not low[at - 1].isalnum():
            if end == len(low) or not low[end].isalnum():
                tf, credit = tf + 1, credit + 1.0
            elif prefix:
                tf, credit = tf + 1, credit + PREFIX_SHARE
        at = low.find(word, end)
    return tf, credit


def _pattern(phrase: list[str], prefix: bool) -> re.Pattern[str]:
    """Finds a phrase's words in order, any separators between them; group 1 holds what
    follows the last word within its token ("" for a whole word; only a prefix may have more)."""
    words = r"[\W_]+".join(re.escape(word) for word in phrase)
    tail = r"([^\W_]*)" if prefix else r"()(?![^\W_])"
    return re.compile(r"(?<![^\W_])" + words + tail)


def _score(counts: list[Found], length: int, weight: float, typical: float) -> float:
    norm = K1 * (1 - B + B * length / typical)
    score = 0.0
    for tf, credit in counts:
        if tf:
            score += weight * credit * (K1 + 1) / (tf + norm)
    return score


@lru_cache(maxsize=64)
def scorer(terms: str) -> Scorer:
    """The Scorer of a query (`terms` from query_terms), shared by the rows it ranks."""
    return Scorer(json.loads(terms))


def item_score(name: str | None, path: str | None, site_title: str | None, terms: str) -> float:
    """An item's score for the query: higher is better (plaza_rank in SQL)."""
    return scorer(terms).item(name, path, site_title)


def text_score(text: str | None, terms: str) -> float:
    """A comment's or message's score for the query: higher is better."""
    return scorer(terms).text(text)


def order_key(score: float, name: str | None, drive_id: str, item_id: str) -> tuple:
    """Best first, then ORDER_SQL's tie-break: the order of sync's search, in Python."""
    return (-score, (name or "").translate(_ASCII_LOWER), drive_id, item_id)


def install(conn: sqlite3.Connection) -> None:
    """Makes plaza_rank available to the SQL run on `conn` (cheap; done before each search)."""
    conn.create_function(FUNCTION, 4, item_score, deterministic=True)
