"""What a search query means: its words, their synonyms, and what to mark and suggest.

People type Chinese words without spaces ("电梯检验"). The query is cut into words by jieba (rjieba, its
Rust implementation) with the field's dictionary (qzt.rules.search_vocabulary); a document matches when
it holds every word, each word matched through the bigram index (qzt.rules.search_terms), so 检测 still
finds 检验检测 and 电梯检验 finds 电梯定期检验. Words of the field's synonym groups match any word of their
group. Latin runs (CMA, jiliang) stay words of their own, matched by prefix as before.
"""

import difflib
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

import rjieba
from pypinyin import lazy_pinyin

from qzt.rules.search_terms import MAX_LATIN, index_terms, is_han, latin_terms, normalize, query_terms, runs
from qzt.rules.search_vocabulary import CATEGORY_KEYWORDS, DICTIONARY, STOP_WORDS, SYNONYMS

_SYNONYMS_OF: dict[str, tuple[str, ...]] = {
    word: tuple(other for other in group if other != word) for group in SYNONYMS for word in group
}
# The field's words of three characters or more are index terms of their own, beside their bigrams: a
# query for one asks one list of documents instead of all its bigrams' (质量管理体系: five lists of a
# third of the directory each, every one of them read). A document holds the word where its text does.
WHOLE_WORDS: frozenset[str] = frozenset(
    word
    for word in DICTIONARY + tuple(w for group in SYNONYMS for w in group)
    if is_han(word) and len(word) >= 3
)
_lock = threading.Lock()


@cache
def _segmenter() -> rjieba.Jieba:
    """jieba's dictionary with the field's words, built once per process (about 0.2 s)."""
    with _lock:
        jieba = rjieba.Jieba()
        for word in DICTIONARY + tuple(w for group in SYNONYMS for w in group):
            if is_han(word):
                jieba.add_word(word, None, None)
        return jieba


def segment(run: str) -> list[str]:
    """A run of Han characters cut into words (precise mode, no guessing of unknown words)."""
    return [word for word in _segmenter().cut(run, False) if word.strip()]


@dataclass(frozen=True)
class Word:
    """A word of the query and the words that may stand for it (itself first)."""

    text: str
    alternatives: tuple[str, ...]

    @property
    def synonyms(self) -> tuple[str, ...]:
        return self.alternatives[1:]

    def term_sets(self, with_synonyms: bool = True) -> list[list[str]]:
        """For each alternative, the index terms a document must all hold."""
        chosen = self.alternatives if with_synonyms else self.alternatives[:1]
        return [terms for alternative in chosen if (terms := _word_terms(alternative))]


_WHOLE_WORDS_IN_ORDER = tuple(sorted(WHOLE_WORDS))


def _word_terms(word: str) -> list[str]:
    return [word] if word in WHOLE_WORDS else query_terms(word)


def text_terms(text: str) -> list[str]:
    """The index terms of a text: its characters, bigrams and Latin words, and the field's whole words
    it holds."""
    folded = normalize(text)
    return index_terms(text) + [word for word in _WHOLE_WORDS_IN_ORDER if word in folded]


def words(query: str) -> tuple[Word, ...]:
    """The query's words in typed order, without repeats and without words that say nothing (unless
    nothing else is left: a search for 佛山 still searches)."""
    pieces: list[str] = []
    for run in runs(query):
        pieces += _join_single_characters(segment(run)) if is_han(run) else [run[:MAX_LATIN]]
    pieces = list(dict.fromkeys(pieces))
    meaningful = [p for p in pieces if p not in STOP_WORDS]
    return tuple(Word(p, (p, *_SYNONYMS_OF.get(p, ()))) for p in meaningful or pieces)


def pinyin_terms(text: str) -> list[str]:
    """Index terms that find Han words by pinyin: each word's full pinyin and initials (计量: jiliang, jl)
    with prefixes, and two neighbouring words' pinyin together (jiliangjiance). For names and category
    names, where people type pinyin; not for long texts."""
    terms: dict[str, None] = {}
    for run in runs(text):
        if not is_han(run):
            continue
        sounds = [lazy_pinyin(word) for word in segment(run)]
        for syllables in sounds:
            if len(syllables) > 1:
                terms.update(dict.fromkeys(latin_terms("".join(syllables)[:MAX_LATIN])))
                terms["".join(s[0] for s in syllables)] = None
        for first, second in zip(sounds, sounds[1:], strict=False):
            terms["".join(first + second)[:MAX_LATIN]] = None
    return list(terms)


def _join_single_characters(pieces: list[str]) -> list[str]:
    """jieba cuts a word it does not know (记量, a wrong character picked) into single characters; kept
    apart they would match any document holding each character anywhere. Neighbouring single characters
    (other than words like 的) are joined back into one word."""
    joined: list[str] = []
    joining = False  # the last piece of `joined` was made of single characters
    for piece in pieces:
        single = len(piece) == 1 and piece not in STOP_WORDS
        if single and joining:
            joined[-1] += piece
        else:
            joined.append(piece)
        joining = single
    return joined


# --- what a document is found by ---


@dataclass(frozen=True)
class ServiceText:
    category_name: str
    title: str
    content: str
    featured: bool


def document_terms(
    name: str, introduction: str, services: list[ServiceText], qualification_names: list[str]
) -> tuple[list[str], list[str], list[str], list[str]]:
    """An institution's terms by field, each field holding the one before, for ranking (qzt.directory
    .search): the name (with its pinyin); the head: the name and the featured service titles; the
    services: the head and every service's category (with its pinyin), title and content; the body:
    the services, the introduction and the qualifications. Each without repeats, in first-seen order."""
    name_terms = list(dict.fromkeys(text_terms(name) + pinyin_terms(name)))
    head = dict.fromkeys(name_terms)
    for service in services:
        if service.featured:
            head.update(_terms(service.title))
    offered = dict(head)
    for service in services:
        offered.update(_terms(service.category_name))
        offered.update(_terms(service.title))
        offered.update(_terms(service.content))
    for category in sorted({service.category_name for service in services}):
        offered.update(_pinyin_terms(category))
    body = dict(offered)
    body.update(dict.fromkeys(text_terms(introduction)))
    for qualification in qualification_names:
        body.update(_terms(qualification))
    return name_terms, list(head), list(offered), list(body)


@lru_cache(maxsize=16384)
def _terms(text: str) -> dict[str, None]:
    """Terms of a text that repeats across institutions (service items, certificates): worked out once."""
    return dict.fromkeys(text_terms(text or ""))


@cache
def _pinyin_terms(category_name: str) -> dict[str, None]:
    return dict.fromkeys(pinyin_terms(category_name))


# --- what to mark in a result ---


def highlight_spans(text: str, query_words: tuple[Word, ...]) -> list[tuple[str, bool]]:
    """`text` cut into (piece, matched) spans: the query's words and synonyms where they stand whole in it
    (case and width ignored). A word the document holds only in pieces (压力容器 through 压力 and 容器
    elsewhere) is not marked: marking 压力 in 压力管道 would point at the wrong thing."""
    if not text or not query_words:
        return [(text, False)] if text else []
    folded = _fold(text)
    marked = [False] * len(text)
    for word in query_words:
        for alternative in word.alternatives:
            _mark(folded, alternative, marked)
    spans: list[tuple[str, bool]] = []
    for char, flag in zip(text, marked, strict=True):
        if spans and spans[-1][1] == flag:
            spans[-1] = (spans[-1][0] + char, flag)
        else:
            spans.append((char, flag))
    return spans


def _fold(text: str) -> str:
    """Case- and width-folded, one character for one (so positions stay those of `text`)."""
    return "".join(
        folded if len(folded := unicodedata.normalize("NFKC", ch).lower()) == 1 else ch for ch in text
    )


def _mark(folded: str, needle: str, marked: list[bool]) -> None:
    for match in re.finditer(re.escape(needle), folded):
        marked[match.start() : match.end()] = [True] * (match.end() - match.start())


# --- when nothing is found ---


def vocabulary() -> tuple[str, ...]:
    """The words a correction may propose: the field's dictionary, synonyms and category words."""
    words_ = list(DICTIONARY)
    words_ += [w for group in SYNONYMS for w in group]
    words_ += [w for keywords in CATEGORY_KEYWORDS.values() for w in keywords]
    return tuple(dict.fromkeys(w for w in words_ if is_han(w)))


@cache
def _pinyin(word: str) -> str:
    return "".join(lazy_pinyin(word))


def correction(word: str, known: tuple[str, ...]) -> str | None:
    """A known word the user probably meant: one that sounds the same (a wrong character picked in a
    pinyin keyboard: 记量 → 计量), else, for words of three or more characters, one that differs in a
    single character. None when nothing is that close."""
    if not is_han(word) or word in known:
        return None
    sound = _pinyin(word)
    for candidate in known:
        if len(candidate) == len(word) and _pinyin(candidate) == sound:
            return candidate
    if len(word) >= 3:
        same_length = [c for c in known if len(c) == len(word)]
        close = difflib.get_close_matches(word, same_length, n=1, cutoff=1 - 1.5 / len(word))
        if close and sum(a != b for a, b in zip(close[0], word, strict=True)) == 1:
            return close[0]
    return None


def suggest_categories(query_words: tuple[Word, ...], names: dict[str, str], limit: int = 3) -> list[str]:
    """Category slugs whose name or usual words share the most with the query, best first, ties in the
    regulation's order (the order of `names`)."""
    scores: dict[str, int] = {}
    for slug, name in names.items():
        vocabulary_ = (name, *CATEGORY_KEYWORDS.get(slug, ()))
        score = sum(_closeness(alt, v) for w in query_words for alt in w.alternatives for v in vocabulary_)
        if score:
            scores[slug] = score
    order = list(names)
    return sorted(scores, key=lambda slug: (-scores[slug], order.index(slug)))[:limit]


def _closeness(word: str, keyword: str) -> int:
    if len(word) >= 2 and (word in keyword or keyword in word):
        return 3
    bigrams = {word[i : i + 2] for i in range(len(word) - 1)} if is_han(word) else set()
    return sum(1 for i in range(len(keyword) - 1) if keyword[i : i + 2] in bigrams)
