"""Understanding a typed question: an intent model trained at start-up from the content's examples.

Each guide, each quick answer of a guide (`guide#answer`), each action (`help-request`, `contact`) and
each small-talk intent (greeting, thanks, goodbye, human, insult, scam) carries `examples:` — messages
as people type them. Off-topic messages are trained as `none`. The text is normalised first
(`bot.text.normalise`: no diacritics, y→i, chat abbreviations spelled out), then described by TF-IDF
over character n-grams (which absorb typos and teencode) and over words and word pairs.

Two linear support-vector classifiers share those features:
1. *what about*: the guide (its own examples and its quick answers' together), an action, a small-talk
   intent or `none`; a softmax of its scores (temperature tuned on the development set) gives the
   confidences the bands use;
2. *which aspect*: the whole guide, or one of its quick answers — trained on every guide at once, so that
   "có mất phí không", "mất bao lâu", "làm ở đâu" are learnt from all the guides that answer them, then
   restricted to the answers the chosen guide has.
Training takes about half a second (logistic regression was as accurate but took 7 s); no model is
stored or downloaded.

Three bands of confidence decide what the bot does (thresholds tuned on tests/data/questions.tsv with
`dvcbot guides eval`):
    answer    the best intent is clear: open that guide, give that quick answer or small-talk line
    offer     a few intents are plausible: "Anh/chị muốn hỏi về:" with the top 2–3 as buttons
    unknown   nothing fits (or it is off-topic): "chưa hiểu", the topics and 🙋 Nhờ hỗ trợ
"""

from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from bot.content import Content
from bot.text import normalise

log = logging.getLogger(__name__)

MAX_QUERY = 300
TEMPERATURE = 4.0  # scales the topic classifier's margins before the softmax (tuned: bench/tune_intents.py)
ANSWER = 0.7  # the best intent's confidence at which the bot answers it directly
OFFER = 0.15  # below this nothing is offered: "chưa hiểu"
OFFER_FLOOR = 0.08  # an intent offered as a button needs at least this
ASPECT_FLOOR = -0.5  # a quick answer whose classifier margin is below this is not given (tuned on the dev set)
SCAM_ALERT = 0.2  # a message this likely to report a scam gets the warning too, whatever else it asks
NONE_SURE = 0.5  # off-topic at least this likely: a "how long?" in it is not about the guide being read
SCAM_SURE = 0.35  # a scam report that is the likeliest intent gets the warning from this confidence on
SMALLTALK = 0.6  # greetings, thanks, insults… are answered only from this confidence on
MARGIN = 0.2  # ahead of the runner-up by this much, the guide being read is answered without offering
NONE = "none"
GENERAL = "*"  # the aspect "the whole guide" (no quick answer id can be "*")

Band = Literal["answer", "offer", "unknown"]


Kind = Literal["guide", "answer", "action", "smalltalk", "none"]


@dataclass(frozen=True, slots=True)
class Hit:
    id: str
    score: float
    kind: Kind = "none"

    @property
    def offerable(self) -> bool:
        """Guides, quick answers and actions can be offered as buttons; small talk is only answered."""
        return self.kind in ("guide", "answer", "action")


@dataclass(frozen=True, slots=True)
class Understood:
    band: Band
    ranked: tuple[Hit, ...]  # every intent, most likely first

    @property
    def best(self) -> Hit:
        return self.ranked[0]

    def score(self, intent: str) -> float:
        return next((h.score for h in self.ranked if h.id == intent), 0.0)

    @property
    def maybe_scam(self) -> bool:
        """A scam report mixed with a question ("shipper gọi đòi phí giao kết quả"): the warning goes
        first, then the answer to the question."""
        return self.best.id != "scam" and self.score("scam") >= SCAM_ALERT

    def offers(self, limit: int = 3) -> list[Hit]:
        """What may be offered as buttons: guides, quick answers and actions likely enough."""
        return [h for h in self.ranked if h.offerable and h.score >= OFFER_FLOOR][:limit]


def training_data(content: Content) -> tuple[list[str], list[str]]:
    """(texts, intents) from the content: titles, keywords and examples."""
    texts: list[str] = []
    labels: list[str] = []

    def add(intent: str, items: object) -> None:
        for text in items:  # type: ignore[attr-defined]
            if isinstance(text, str) and text.strip():
                texts.append(text)
                labels.append(intent)

    for guide in content.guides.values():
        add(guide.id, (guide.title, guide.summary, *guide.keywords, *guide.examples))
        for answer in guide.answers:
            add(f"{guide.id}#{answer.id}", (answer.question, *answer.examples))
    for action in content.actions:
        add(action.id, (action.title, *action.keywords, *action.examples))
    for intent in content.smalltalk:
        add(intent.id, intent.examples)
    add(NONE, content.off_topic)
    return texts, labels


def _guide_names(content: Content) -> dict[str, set[str]]:
    """What names each guide: its keywords, and the word pairs of its keywords no other guide's share
    ("kết hôn" from "trích lục kết hôn"). Padded with spaces for whole-word matching."""
    names = {g.id: {f" {normalise(k)} " for k in g.keywords} - {"  "} for g in content.guides.values()}
    pairs: dict[str, set[str]] = {}
    for guide in content.guides.values():
        for keyword in guide.keywords:
            words = normalise(keyword).split()
            for first, second in itertools.pairwise(words):
                pairs.setdefault(f" {first} {second} ", set()).add(guide.id)
    for pair, owners in pairs.items():
        if len(owners) == 1:
            names[next(iter(owners))].add(pair)
    return names


class Understanding:
    """Built once per commune's content; classifying one message takes about a millisecond."""

    _trained: ClassVar[dict[int, Understanding]] = {}

    @classmethod
    def for_content(cls, content: Content) -> Understanding:
        """The model for this content, trained once per process (the CLI, tests and several communes'
        identical content reuse it)."""
        texts, labels = training_data(content)
        key = hash((tuple(texts), tuple(labels)))
        found = cls._trained.get(key)
        if found is None:
            if len(cls._trained) >= 8:
                cls._trained.clear()
            found = cls._trained[key] = cls(content)
        return found

    def __init__(self, content: Content) -> None:
        started = time.perf_counter()
        texts, labels = training_data(content)
        normalised = [normalise(t) for t in texts]
        self._words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"\S+")
        self._chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
        features = hstack([self._words.fit_transform(normalised), self._chars.fit_transform(normalised)]).tocsr()
        self._topics = LinearSVC(C=0.5).fit(features, [label.partition("#")[0] for label in labels])
        self._answers_of = {g.id: {a.id for a in g.answers} for g in content.guides.values()}
        about_guides = [i for i, label in enumerate(labels) if label.partition("#")[0] in self._answers_of]
        aspects = [labels[i].partition("#")[2] or GENERAL for i in about_guides]
        self._aspects = LinearSVC(C=2.0).fit(features[about_guides], aspects)
        self._aspect_names: list[str] = [str(c) for c in self._aspects.classes_]
        self._topic_names: list[str] = [str(c) for c in self._topics.classes_]
        self._intents = sorted(set(labels))
        self._kinds: dict[str, Kind] = {NONE: "none"}
        for guide in content.guides.values():
            self._kinds[guide.id] = "guide"
            self._kinds.update({f"{guide.id}#{a.id}": "answer" for a in guide.answers})
        self._kinds.update({a.id: "action" for a in content.actions})
        self._kinds.update({s.id: "smalltalk" for s in content.smalltalk})
        # What names a guide ("khai sinh", "tạm trú"): a follow-up question naming another guide is not
        # about the guide the person is reading.
        self._names = _guide_names(content)
        self.training_seconds = time.perf_counter() - started
        self.examples = len(texts)
        log.info(
            "understanding: %d intents from %d examples in %.2f s",
            len(self._intents),
            len(texts),
            self.training_seconds,
        )

    @property
    def intents(self) -> list[str]:
        return list(self._intents)

    def kind(self, intent: str) -> Kind:
        return self._kinds.get(intent, "none")

    def rank(self, text: str) -> tuple[Hit, ...]:
        """Every intent with its probability, most likely first."""
        return self._rank(normalise(text[:MAX_QUERY]))[0]

    def _rank(self, normalised: str) -> tuple[tuple[Hit, ...], np.ndarray]:
        if not normalised:
            return (Hit(NONE, 1.0, "none"),), np.zeros(len(self._aspect_names))
        features = hstack([self._words.transform([normalised]), self._chars.transform([normalised])]).tocsr()
        scores = self._topics.decision_function(features)[0] * TEMPERATURE
        confidences = np.exp(scores - scores.max())
        confidences /= confidences.sum()
        order = np.argsort(-confidences)
        aspect_scores = self._aspects.decision_function(features)[0]
        hits = []
        for i in order:
            intent = self._topic_names[i]
            aspect = self._aspect_of(intent, aspect_scores)
            if aspect != GENERAL:
                intent = f"{intent}#{aspect}"
            hits.append(Hit(intent, round(float(confidences[i]), 4), self.kind(intent)))
        return tuple(hits), aspect_scores

    def _aspect_of(self, guide_id: str, aspect_scores: np.ndarray, *, claimed: bool = False) -> str:
        """Which of a guide's quick answers the message asks for, or GENERAL for the whole guide.

        A message that clearly asks about an aspect the guide has no quick answer for, or that every one
        of its answers clearly rejects, gets the whole guide: "khai tử có mất phí không" opens the
        death-registration guide, not its "documents" answer. `claimed` (follow-ups): only an answer
        that claims the message."""
        floor = 0.0 if claimed else ASPECT_FLOOR
        answers = self._answers_of.get(guide_id)
        if not answers:
            return GENERAL
        asked = int(np.argmax(aspect_scores))
        if aspect_scores[asked] > 0 and self._aspect_names[asked] not in answers:
            return GENERAL  # it asks about something (fees, where…) this guide has no quick answer for
        allowed = [j for j, name in enumerate(self._aspect_names) if name == GENERAL or name in answers]
        best = max(allowed, key=lambda j: aspect_scores[j])
        return self._aspect_names[best] if aspect_scores[best] > floor else GENERAL

    def understand(self, text: str, *, context: str | None = None) -> Understood:
        """The band and the ranking. `context` is the guide the person is reading: a follow-up such as
        "mất bao lâu, có mất tiền k" is about that guide unless the message names another one."""
        normalised = normalise(text[:MAX_QUERY])
        ranked, aspect_scores = self._rank(normalised)
        best = ranked[0]
        followup = self._followup(normalised, ranked, aspect_scores, context)
        if followup is not None:
            return Understood("answer", (followup, *(h for h in ranked if h.id != followup.id)))
        if best.id == NONE or best.score < OFFER or not any(c.isalpha() for c in normalised):
            return Understood("unknown", ranked)  # "1", "2": a number is not a question
        in_context = context is not None and best.id.partition("#")[0] == context
        if best.kind == "smalltalk":
            # A scam report must never get "chưa hiểu": its warning is given even when half-recognised.
            # Other small talk only when clear ("tiếp" is not goodbye, a name is not an insult).
            sure = best.score >= (SCAM_SURE if best.id == "scam" else SMALLTALK)
            if sure:
                return Understood("answer", ranked)
            return Understood(
                "offer" if any(h.score >= OFFER for h in ranked[1:] if h.offerable) else "unknown", ranked
            )
        if best.score >= ANSWER or (in_context and best.score - ranked[1].score >= MARGIN):
            # The guide the person is reading, when clearly the likeliest, needs no confirming.
            return Understood("answer", ranked)
        return Understood("offer", ranked)

    def _followup(
        self, normalised: str, ranked: tuple[Hit, ...], aspect_scores: np.ndarray, context: str | None
    ) -> Hit | None:
        """The context guide's quick answer for a question that asks about one of its aspects (how long,
        how much, what to prepare…) without naming another guide — when the model alone was unsure, or
        only guessed which guide's answer on that same aspect was meant."""
        if context is None or context not in self._answers_of:
            return None
        aspect = self._aspect_of(context, aspect_scores, claimed=True)
        if aspect == GENERAL:
            return None
        best = ranked[0]
        guessed = best.kind == "answer" and best.id.partition("#")[2] == aspect
        # "làm hộ chiếu mất bao lâu": clearly a service no guide covers, not a follow-up
        unsure = best.score < (NONE_SURE if best.id == NONE else ANSWER)
        if best.id.partition("#")[0] == context or not (guessed or unsure) or best.kind == "smalltalk":
            return None
        padded = f" {normalised} "
        if any(name in padded for g, names in self._names.items() if g != context for name in names):
            return None
        return Hit(f"{context}#{aspect}", best.score, "answer")

    def search(self, text: str, limit: int = 3) -> list[Hit]:
        """The `dvcbot guides search` contract: guides, quick answers (`guide#answer`) and actions, best
        first; [] when nothing fits (off-topic, small talk, or too unsure)."""
        understood = self.understand(text)
        if understood.band == "unknown" or not understood.best.offerable:
            return []
        if understood.band == "answer":
            return [understood.best, *understood.offers(limit)[1:]][:limit]
        return understood.offers(limit)


@dataclass(frozen=True, slots=True)
class Miss:
    text: str
    expected: str
    got: str
    score: float


@dataclass(frozen=True)
class Evaluation:
    """How the understanding does on a labelled set of messages (`dvcbot guides eval`)."""

    total: int
    correct: int
    same_guide: int
    per_intent: dict[str, tuple[int, int]]  # intent -> (correct, total)
    bands: dict[str, tuple[int, int]]  # band -> (correct, total)
    off_topic_answered: int  # off-topic messages answered with a guide, quick answer or action
    misses: list[Miss]

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


def predicted(understood: Understood) -> str:
    """The single intent the bot acts on: the best one, or `none` when it says it did not understand."""
    return NONE if understood.band == "unknown" else understood.best.id


def evaluate(understanding: Understanding, labelled: list[tuple[str, str]]) -> Evaluation:
    correct = same_guide = off_topic_answered = 0
    per_intent: dict[str, list[int]] = {}
    bands: dict[str, list[int]] = {}
    misses: list[Miss] = []
    for text, expected in labelled:
        understood = understanding.understand(text)
        got = predicted(understood)
        hit = got == expected
        correct += hit
        same_guide += got.partition("#")[0] == expected.partition("#")[0]
        per_intent.setdefault(expected, [0, 0])
        per_intent[expected][0] += hit
        per_intent[expected][1] += 1
        bands.setdefault(understood.band, [0, 0])
        bands[understood.band][0] += hit
        bands[understood.band][1] += 1
        if expected == NONE and understood.band == "answer" and understood.best.offerable:
            off_topic_answered += 1
        if not hit:
            misses.append(Miss(text, expected, got, understood.best.score))
    return Evaluation(
        total=len(labelled),
        correct=correct,
        same_guide=same_guide,
        per_intent={k: (v[0], v[1]) for k, v in sorted(per_intent.items())},
        bands={k: (v[0], v[1]) for k, v in sorted(bands.items())},
        off_topic_answered=off_topic_answered,
        misses=misses,
    )
