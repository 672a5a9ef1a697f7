"""One tokenizer for Chinese and Latin text, feeding both SQLite FTS5 and PostgreSQL.

Han text has no spaces, so it is indexed as single characters and overlapping bigrams: a query of
two or more characters must contain all its bigrams (检测 finds 检验检测), a one-character query its
character. Latin and digit runs (CMA, ISO9001) are case-folded; they are also indexed by their
letter/digit parts (iso, 9001) and by prefixes, so results appear while the user is still typing.
"""

import re
import unicodedata

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUN = re.compile(rf"[{_HAN}]+|[a-z0-9]+")
_PARTS = re.compile(r"[a-z]+|[0-9]+")
_MIN_PREFIX = 2
MAX_LATIN = 32


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


def is_han(run: str) -> bool:
    return bool(run) and not run[0].isascii()


def runs(text: str) -> list[str]:
    """The runs of Han characters and of Latin letters and digits in `text`, normalized."""
    return _RUN.findall(normalize(text))


def latin_terms(word: str) -> list[str]:
    """A Latin word, its letter and digit parts, and their prefixes (found while still typing)."""
    terms: dict[str, None] = {}
    for part in dict.fromkeys([word, *_PARTS.findall(word)]):
        terms[part] = None
        for end in range(_MIN_PREFIX, len(part)):
            terms[part[:end]] = None
    return list(terms)


def _bigrams(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


def index_terms(text: str) -> list[str]:
    """Every term a document is found by, without duplicates, in first-seen order."""
    terms: dict[str, None] = {}
    for run in runs(text):
        if is_han(run):
            terms.update(dict.fromkeys(run))
            terms.update(dict.fromkeys(_bigrams(run)))
        else:
            terms.update(dict.fromkeys(latin_terms(run[:MAX_LATIN])))
    return list(terms)


def query_terms(text: str) -> list[str]:
    """The terms a document must all have to match the query."""
    terms: dict[str, None] = {}
    for run in runs(text):
        if is_han(run):
            terms.update(dict.fromkeys(_bigrams(run) if len(run) > 1 else [run]))
        else:
            terms[run[:MAX_LATIN]] = None
    return list(terms)
