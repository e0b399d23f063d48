"""Free-text search over guides and actions that understands how people really type Vietnamese.

Queries arrive without diacritics, with typos and abbreviations ("lam sao dk vneid"). Both the
query and the content are folded (diacritics removed, đ→d, lowercased), abbreviations are expanded,
filler words dropped; then each remaining word is matched exactly or, for longer words, fuzzily
(rapidfuzz) against the words of each guide's title, keywords, summary and steps, weighted by how
rare the word is across guides and by the field it was found in. A keyword phrase found whole in
the query, or a pair of query words that stands together in a guide's title or keywords, adds to the
score. Anything that scores below a floor is "not understood" rather than a wrong guide.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.content import Content

MAX_QUERY = 300
MIN_SCORE = 0.45
RELATIVE_FLOOR = 0.7
FIELD_WEIGHTS = {"title": 1.0, "keywords": 1.0, "summary": 0.7, "steps": 0.3}

ABBREVIATIONS: dict[str, str] = {
    "dk": "dang ki", "dki": "dang ki", "tk": "tai khoan", "ko": "khong", "k": "khong",
    "kg": "khong", "hok": "khong", "mk": "mat khau", "pass": "mat khau", "password": "mat khau",
    "dvc": "dich vu cong", "dvcqg": "dich vu cong quoc gia", "cccd": "can cuoc", "cmnd": "can cuoc",
    "cmt": "can cuoc", "bhit": "bao hiem i te", "ks": "khai sinh", "gks": "giay khai sinh",
    "hkd": "ho kinh doanh", "sdt": "so dien thoai", "dt": "dien thoai", "dth": "dien thoai",
    "onl": "online", "ol": "online", "tt": "thanh toan", "ntn": "nhu the nao", "dc": "duoc",
    "lv2": "muc 2", "m2": "muc 2", "lv1": "muc 1", "m1": "muc 1", "otp": "otp", "app": "ung dung",
    "ubnd": "uy ban", "tthc": "thu tuc", "hs": "ho so", "pc": "may tinh",
    "vneid": "vneid", "vnied": "vneid", "vneit": "vneid", "vneld": "vneid", "vnid": "vneid", "qr": "qr",
}  # fmt: skip

# Filler phrases removed before single words, so "làm sao" goes but "bản sao", "căn cước" stay.
FILLER_PHRASES: tuple[str, ...] = (
    "lam the nao", "nhu the nao", "the nao", "lam sao", "kieu gi", "cho hoi", "xin hoi", "hoi chut",
    "o dau", "bao gio", "duoc khong", "vui long", "xin chao", "cam on", "giup toi", "giup em", "giup minh",
    "chi giup", "anh chi", "cho toi", "cho em", "cho minh",
)  # fmt: skip
STOPWORDS = frozenset(
    "toi em anh chi minh co duoc khong o dau bang cach nhu va voi ma la thi muon hoi xin chao oi a nhe ad "
    "ve cua nay do di roi chua phai nhung cac nhieu mot hay thu vay ha ah u uh ok oke hello hi alo gi "
    "nao".split()
)  # fmt: skip
# Both lists are compared with `match_form` words, where y has become i.
FILLER_PHRASES = tuple(p.replace("y", "i") for p in FILLER_PHRASES)
STOPWORDS = frozenset(w.replace("y", "i") for w in STOPWORDS)
_WORD = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """Lowercase, strip Vietnamese diacritics (đ→d), keep only letters and digits separated by spaces."""
    text = unicodedata.normalize("NFD", text.lower()).replace("đ", "d")
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return " ".join(_WORD.findall(text))


def match_form(text: str) -> str:
    """`fold`, plus y→i: people write "ky"/"ki", "quy"/"qui" interchangeably."""
    return fold(text).replace("y", "i")


def query_terms(text: str) -> list[str]:
    """Folded, abbreviation-expanded words of a query, filler phrases and words removed."""
    words: list[str] = []
    for word in match_form(text[:MAX_QUERY]).split():
        words.extend(ABBREVIATIONS.get(word, word).split())
    joined = f" {' '.join(words)} "
    for phrase in FILLER_PHRASES:
        joined = joined.replace(f" {phrase} ", " ")
    return [w for w in joined.split() if w not in STOPWORDS]


@dataclass(frozen=True, slots=True)
class Hit:
    id: str
    score: float


@dataclass
class _Doc:
    id: str
    field_of: dict[str, float]  # word -> best field weight
    pairs: set[tuple[str, str]]  # adjacent words in title/keywords/summary
    phrases: list[str]  # folded keyword phrases and title


def _pairs(words: list[str]) -> Iterable[tuple[str, str]]:
    return itertools.pairwise(words)


class SearchIndex:
    """An in-memory index over one commune's content; cheap to build, built once at start-up."""

    def __init__(self, content: Content) -> None:
        self._docs: list[_Doc] = []
        for guide in content.guides.values():
            fields = {
                "title": [guide.title],
                "keywords": list(guide.keywords),
                "summary": [guide.summary],
                "steps": list(guide.steps),
            }
            self._docs.append(self._make_doc(guide.id, fields))
        for action in content.actions:
            self._docs.append(self._make_doc(action.id, {"title": [action.title], "keywords": list(action.keywords)}))
        df: dict[str, int] = {}
        for doc in self._docs:
            for word in doc.field_of:
                df[word] = df.get(word, 0) + 1
        n = max(len(self._docs), 1)
        self._idf = {word: math.log(n / count) + 0.1 for word, count in df.items()}
        self._unknown_idf = math.log(n) + 0.1
        self._vocabulary = list(self._idf)

    @staticmethod
    def _make_doc(doc_id: str, fields: dict[str, list[str]]) -> _Doc:
        field_of: dict[str, float] = {}
        pairs: set[tuple[str, str]] = set()
        phrases: list[str] = []
        for name, texts in fields.items():
            weight = FIELD_WEIGHTS[name]
            for text in texts:
                words = [ABBREVIATIONS.get(w, w) for w in match_form(text).split()]
                words = " ".join(words).split()
                for word in words:
                    if field_of.get(word, 0.0) < weight:
                        field_of[word] = weight
                if name != "steps":
                    content_words = query_terms(" ".join(words))
                    pairs.update(_pairs(content_words))
                    if name in ("keywords", "title") and content_words:
                        phrases.append(" ".join(content_words))
        return _Doc(doc_id, field_of, pairs, phrases)

    def _matches(self, term: str) -> list[tuple[str, float]]:
        """Vocabulary words this query word may mean, with a similarity in (0, 1]."""
        if term in self._idf:
            return [(term, 1.0)]
        if len(term) < 4 or term.isdigit():
            return []
        found = process.extract(term, self._vocabulary, scorer=fuzz.ratio, score_cutoff=75, limit=3)
        return [(word, score / 100.0) for word, score, _ in found if abs(len(word) - len(term)) <= 2]

    def search(self, query: str, limit: int = 3) -> list[Hit]:
        """Best matches first; [] when nothing fits well enough (greetings, off-topic, abuse)."""
        terms = query_terms(query)
        if not terms:
            return []
        matches = [self._matches(t) for t in terms]
        weights = [max((self._idf[w] for w, _ in m), default=self._unknown_idf) for m in matches]
        total = sum(weights)
        best_words = [m[0][0] if m else t for m, t in zip(matches, terms, strict=True)]
        query_pairs = list(_pairs(best_words))
        padded = f" {' '.join(best_words)} "
        hits: list[Hit] = []
        for doc in self._docs:
            base = (
                sum(
                    weight * max((sim * doc.field_of.get(w, 0.0) for w, sim in m), default=0.0)
                    for m, weight in zip(matches, weights, strict=True)
                )
                / total
            )
            paired = sum(1 for pair in query_pairs if pair in doc.pairs) / len(query_pairs) if query_pairs else base
            covered = max((len(p.split()) for p in doc.phrases if f" {p} " in padded), default=0)
            score = 0.6 * base + 0.25 * paired + 0.15 * min(covered / len(best_words), 1.0)
            if score >= MIN_SCORE:
                hits.append(Hit(doc.id, round(score, 3)))
        hits.sort(key=lambda h: (-h.score, h.id))
        if hits:
            floor = hits[0].score * RELATIVE_FLOOR
            hits = [h for h in hits if h.score >= floor]
        return hits[:limit]
