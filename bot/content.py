"""Content as data: guides, topics, actions and the bot's own strings, as YAML with Jinja2 texts.

Loading is forgiving and checking is strict. `load_content` serves whatever is sound (a guide file
with a fault is skipped and logged, so the bot still starts); `check_content` renders every text for
every commune with `StrictUndefined` and reports each fault with its file, line and field, for
`dvcbot guides check`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import jinja2
import yaml
from jinja2 import meta
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.text import normalise

log = logging.getLogger(__name__)

GUIDE_IDS = (
    "vneid-register", "vneid-level2", "vneid-passcode", "dvc-login", "file-online", "pay-online",
    "track-result", "birth-registration", "death-registration", "civil-status-copy", "certify-copy",
    "household-business", "utility-bills", "residence-registration", "id-card", "certify-signature",
    "social-pension",
)  # fmt: skip
ACTION_IDS = ("help-request", "contact")
SMALLTALK_IDS = ("greeting", "thanks", "goodbye", "human", "insult", "scam")
# How many examples each intent needs (`guides check`): the understanding is trained on them.
MIN_EXAMPLES = {"guide": 40, "answer": 10, "action": 25, "smalltalk": 20, "off_topic": 50}
MAX_EXAMPLE = 300
TELEGRAM_MAX_TEXT = 4096
# Variables a string (not a guide) may take at run time besides the commune's.
RUNTIME_VARIABLES = frozenset(
    {
        "last",
        "url",
        "until",
        "other",
        "here",
        "there",
        "where",
        "title",
        "step",
        "total",
        "stars",
        "count",
        "limit",
        "example",
        "name",
        "role",
        "villages",
        "status",
        "code",
        "expires",
        "lines",
        "progress",
        "skills",
        "added",
        "updated",
        "extra",
        "query",
        "household",
        "form",
        "village",
        "phone",
        "at_home",
        "need",
        "time",
        "id",
        "who",
        "whom",
        "text",
        "what",
        "label",
        "reason",
        "missing",
        "rule",
        "done",
        "mark",
        "outlook",
        "today",
        "today_reached",
        "week",
        "week_reached",
        "old",
        "new",
        "waiting",
        "sent",
        "when",
        "number",
        "period",
        "numbers",
        "faults",
        "link",
        "line",
        "commune_title",
        "periods",
    }
)
# libyaml's parser when PyYAML was built with it: the content (3,000 examples) loads 10× faster.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
FALLBACK_TEXT = "Nội dung này đang được cập nhật. Anh/chị vui lòng hỏi cán bộ một cửa của xã."


class ContentError(Exception):
    """Content the bot cannot run without (the commune settings or the strings) is missing or broken."""


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault in a content file, named so a content editor can find and fix it."""

    file: str
    field: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


# ---- file schemas -------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class SourceModel(_Strict):
    name: str = Field(min_length=3, max_length=300)
    url: str = Field(pattern=r"^https?://\S+$", max_length=500)


class ChoiceModel(_Strict):
    label: str = Field(min_length=1, max_length=40)
    goto: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,40}$")


class StepModel(_Strict):
    id: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,40}$")
    text: str = Field(min_length=1)
    choices: list[ChoiceModel] | None = Field(default=None, min_length=2, max_length=6)
    next: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,40}$")
    # A step that makes the person wait (an approval, an application being processed) offers
    # "⏰ Nhắc tôi"; this says what for, in a few words ("tin nhắn báo tài khoản mức 2 được duyệt").
    wait: str | None = Field(default=None, min_length=5, max_length=80)


class AnswerModel(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,30}$")
    question: str = Field(min_length=3, max_length=40)
    answer: str = Field(min_length=3)
    examples: list[str] = Field(default_factory=list)


class GuideModel(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,40}$")
    topic: str = Field(min_length=1)
    title: str = Field(min_length=3, max_length=80)
    summary: str = Field(min_length=3, max_length=200)
    keywords: list[str] = Field(min_length=1)
    sources: list[SourceModel] = Field(min_length=1, max_length=8)
    last_checked: date
    examples: list[str] = Field(default_factory=list)
    answers: list[AnswerModel] = Field(default_factory=list, max_length=12)
    steps: list[StepModel] = Field(min_length=2, max_length=16)


class TopicModel(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,30}$")
    title: str = Field(min_length=3, max_length=60)
    guides: list[str] = Field(min_length=1)


class TopicsModel(_Strict):
    topics: list[TopicModel] = Field(min_length=1)


class ActionModel(_Strict):
    id: str
    title: str = Field(min_length=3, max_length=60)
    keywords: list[str] = Field(min_length=1)
    examples: list[str] = Field(default_factory=list)


class ActionsModel(_Strict):
    actions: list[ActionModel]


class SmalltalkModel(_Strict):
    id: str
    answer: str = Field(min_length=3)
    examples: list[str] = Field(default_factory=list)


class SmalltalkFileModel(_Strict):
    intents: list[SmalltalkModel]
    off_topic: list[str] = Field(default_factory=list)


class OfficeModel(_Strict):
    name: str = Field(min_length=3, max_length=200)
    address: str = Field(min_length=3, max_length=300)
    hours: str = Field(min_length=3, max_length=200)
    hotline: str = Field(min_length=3, max_length=60)


class NamedModel(_Strict):
    name: str = Field(min_length=3, max_length=200)


class PortalModel(_Strict):
    name: str = Field(min_length=3, max_length=200)
    url: str = Field(pattern=r"^https?://\S+$")


class VillageModel(_Strict):
    code: str = Field(pattern=r"^[A-Za-z0-9_-]{1,20}$")
    name: str = Field(min_length=1, max_length=100)


class CommuneModel(_Strict):
    code: int
    name: str = Field(min_length=3, max_length=100)
    province: str = Field(min_length=3, max_length=100)
    timezone: str = "Asia/Ho_Chi_Minh"
    office: OfficeModel
    police: NamedModel
    portal: PortalModel
    villages: list[VillageModel] = Field(default_factory=list)
    targets: dict[str, Any] = Field(default_factory=dict)


# ---- loaded content -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    url: str


@dataclass(frozen=True, slots=True)
class Choice:
    label: str
    target: int  # the step it leads to (1-based)


@dataclass(frozen=True, slots=True)
class Step:
    """One step as shown: its text, where "Tiếp ▶" or its choices lead, and its place on the way."""

    text: str
    choices: tuple[Choice, ...] = ()
    next: int | None = None  # the step after it (1-based); None: it ends the guide (or asks)
    prev: int | None = None  # the step before it on the shortest way here
    position: int = 1  # "Bước k/n": k
    total: int = 1  # "Bước k/n": n, along the longest way through this step
    wait: str | None = None  # what the person waits for at this step ("⏰ Nhắc tôi")

    @property
    def ends(self) -> bool:
        return self.next is None and not self.choices


@dataclass(frozen=True, slots=True)
class QuickAnswer:
    id: str
    question: str
    text: str
    examples: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Guide:
    id: str
    topic: str
    title: str
    summary: str
    keywords: tuple[str, ...]
    sources: tuple[Source, ...]
    last_checked: date
    steps: tuple[Step, ...]
    examples: tuple[str, ...] = ()
    answers: tuple[QuickAnswer, ...] = ()

    @property
    def total(self) -> int:
        return len(self.steps)

    def answer(self, answer_id: str) -> QuickAnswer | None:
        return next((a for a in self.answers if a.id == answer_id), None)


@dataclass(frozen=True, slots=True)
class Topic:
    id: str
    title: str
    guide_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Action:
    id: str
    title: str
    keywords: tuple[str, ...]
    examples: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Smalltalk:
    id: str
    text: str
    examples: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Commune:
    code: str
    name: str
    province: str
    timezone: str
    office: OfficeModel
    police: NamedModel
    portal: PortalModel
    villages: tuple[VillageModel, ...]
    targets: Mapping[str, Any]

    def template_context(self) -> dict[str, Any]:
        """The variables guide and string templates may use."""
        return {
            "commune": {"code": self.code, "name": self.name, "province": self.province},
            "office": self.office.model_dump(),
            "police": self.police.model_dump(),
            "portal": self.portal.model_dump(),
        }


class Strings:
    """The bot's own messages, rendered with the commune's context plus per-call variables."""

    def __init__(self, templates: Mapping[str, jinja2.Template], context: Mapping[str, Any]) -> None:
        self._templates = dict(templates)
        self._context = dict(context)

    def __call__(self, key: str, **variables: Any) -> str:
        template = self._templates.get(key)
        if template is None:
            log.error("missing string %s", key)
            return FALLBACK_TEXT
        try:
            return template.render({**self._context, **variables}).strip()
        except jinja2.TemplateError:
            log.exception("string %s failed to render", key)
            return FALLBACK_TEXT

    def keys(self) -> set[str]:
        return set(self._templates)


@dataclass(frozen=True)
class Content:
    commune: Commune
    guides: Mapping[str, Guide]
    topics: tuple[Topic, ...]
    actions: tuple[Action, ...]
    strings: Strings
    faults: tuple[Fault, ...] = ()
    smalltalk: tuple[Smalltalk, ...] = ()
    off_topic: tuple[str, ...] = ()

    def topic(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)


# ---- helpers ------------------------------------------------------------------------------------


def make_environment() -> jinja2.Environment:
    """Plain-text templates: no autoescape (messages are sent as plain text), undefined is an error."""
    return jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)


def _line_of(node: yaml.Node | None, loc: Iterable[str | int]) -> int | None:
    """Line (1-based) of the YAML node at `loc`, or of its nearest existing parent."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for key in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == key:
                    child = v
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            child = node.value[key]
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


def _field_name(loc: Iterable[str | int]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _read_yaml(path: Path, root: Path, faults: list[Fault]) -> tuple[Any, yaml.Node | None] | None:
    """Parse a YAML file; on a syntax error record a fault with its line and return None."""
    name = _rel(path, root)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        faults.append(Fault(name, "", f"cannot read the file as UTF-8 ({exc.__class__.__name__})"))
        return None
    try:
        node = yaml.compose(text, Loader=_LOADER)
        data = yaml.load(text, Loader=_LOADER)  # a safe loader (libyaml's when installed)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        # libyaml reports an error at the end of the stream on the line after the last one
        line = min(mark.line + 1, text.count("\n") + 1) if mark else None
        faults.append(Fault(name, "", f"YAML syntax error: {problem}", line))
        return None
    return data, node


def _validate(model: type[BaseModel], data: Any, name: str, node: yaml.Node | None, faults: list[Fault]) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            faults.append(Fault(name, _field_name(loc), error["msg"], _line_of(node, loc)))
        return None


def _compile(
    env: jinja2.Environment, source: str, name: str, field_: str, line: int | None, faults: list[Fault]
) -> jinja2.Template | None:
    try:
        return env.from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        # The template's own line is counted from the first line of the block scalar.
        at = (line or 0) + (exc.lineno or 1) if line else None
        faults.append(Fault(name, field_, f"Jinja2 syntax error: {exc.message}", at))
        return None


def _render(template: jinja2.Template, context: Mapping[str, Any]) -> tuple[str | None, str | None]:
    try:
        return template.render(context).strip(), None
    except jinja2.UndefinedError as exc:
        return None, f"undefined variable: {exc.message}"
    except jinja2.TemplateError as exc:
        return None, f"template error: {exc}"


# ---- communes -----------------------------------------------------------------------------------


def commune_files(root: Path) -> list[Path]:
    return sorted((root / "communes").glob("*.yaml"))


def _load_commune_file(path: Path, root: Path, faults: list[Fault]) -> Commune | None:
    parsed = _read_yaml(path, root, faults)
    if parsed is None:
        return None
    data, node = parsed
    name = _rel(path, root)
    model = _validate(CommuneModel, data, name, node, faults)
    if model is None:
        return None
    if str(model.code) != path.stem:
        faults.append(
            Fault(
                name,
                "code",
                f"code {model.code} does not match the file name {path.stem}",
                _line_of(node, ["code"]),
            )
        )
    codes = [v.code for v in model.villages]
    for dup in sorted({c for c in codes if codes.count(c) > 1}):
        faults.append(Fault(name, "villages", f"duplicate village code {dup}", _line_of(node, ["villages"])))
    return Commune(
        code=str(model.code),
        name=model.name,
        province=model.province,
        timezone=model.timezone,
        office=model.office,
        police=model.police,
        portal=model.portal,
        villages=tuple(model.villages),
        targets=dict(model.targets),
    )


def load_commune(root: Path, code: str) -> Commune:
    path = root / "communes" / f"{code}.yaml"
    if not path.exists():
        raise ContentError(f"no commune settings at {path}")
    faults: list[Fault] = []
    commune = _load_commune_file(path, root, faults)
    if commune is None or faults:
        raise ContentError("; ".join(str(f) for f in faults))
    return commune


# ---- guides, topics, actions, strings -----------------------------------------------------------


@dataclass
class _GuideSource:
    model: GuideModel
    name: str
    node: yaml.Node | None
    templates: list[jinja2.Template | None] = field(default_factory=list)
    answer_templates: list[jinja2.Template | None] = field(default_factory=list)
    shape: _Shape | None = None


@dataclass
class _Shape:
    """How a guide's steps connect (0-based indexes): choices, "Tiếp ▶", the way back, and "Bước k/n"."""

    choices: list[list[tuple[str, int]]]
    next: list[int | None]
    prev: list[int | None]
    position: list[int]
    total: list[int]


def _shape(model: GuideModel, name: str, node: yaml.Node | None, faults: list[Fault]) -> _Shape:
    """The step graph, with a fault for every broken jump, unreachable step and loop."""
    steps = model.steps
    n = len(steps)
    ids: dict[str, int] = {}
    for i, step in enumerate(steps):
        if step.id is None:
            continue
        if step.id == "end" or step.id in ids:
            reason = "'end' is reserved" if step.id == "end" else f"step id {step.id!r} is used twice"
            faults.append(Fault(name, f"steps[{i}].id", reason, _line_of(node, ["steps", i, "id"])))
            continue
        ids[step.id] = i
    choices: list[list[tuple[str, int]]] = [[] for _ in range(n)]
    nexts: list[int | None] = [None] * n
    for i, step in enumerate(steps):
        if step.choices:
            if step.next is not None:
                line = _line_of(node, ["steps", i, "next"])
                faults.append(Fault(name, f"steps[{i}].next", "a step with choices goes where they lead", line))
            for j, choice in enumerate(step.choices):
                target = ids.get(choice.goto)
                if target is None:
                    line = _line_of(node, ["steps", i, "choices", j, "goto"])
                    faults.append(Fault(name, f"steps[{i}].choices[{j}].goto", f"no step {choice.goto!r}", line))
                    continue
                choices[i].append((choice.label, target))
        elif step.next == "end":
            nexts[i] = None
        elif step.next is not None:
            target = ids.get(step.next)
            if target is None:
                line = _line_of(node, ["steps", i, "next"])
                faults.append(Fault(name, f"steps[{i}].next", f"no step {step.next!r}", line))
            nexts[i] = target
        else:
            nexts[i] = i + 1 if i + 1 < n else None
    follow: list[list[int]] = [[t for _, t in choices[i]] for i in range(n)]
    for i, after in enumerate(nexts):
        if after is not None:
            follow[i].append(after)
    depth: list[int | None] = [None] * n
    prev: list[int | None] = [None] * n
    depth[0], queue = 0, [0]
    for i in queue:
        for j in follow[i]:
            if depth[j] is None:
                depth[j], prev[j] = (depth[i] or 0) + 1, i
                queue.append(j)
    for i in range(n):
        if depth[i] is None:
            line = _line_of(node, ["steps", i])
            faults.append(Fault(name, f"steps[{i}]", "no way leads to this step from the first one", line))
    remaining: dict[int, int] = {}
    visiting: set[int] = set()

    def length(i: int) -> int:
        """Steps from i to the end along the longest way (a loop is a fault, counted as an end)."""
        if i in remaining:
            return remaining[i]
        if i in visiting:
            line = _line_of(node, ["steps", i])
            faults.append(Fault(name, f"steps[{i}]", "the steps loop back here: the guide never ends", line))
            return 0
        visiting.add(i)
        remaining[i] = 1 + max((length(j) for j in follow[i]), default=0)
        visiting.discard(i)
        return remaining[i]

    # "Bước k/n" counts along the longest way to a step: taking a shorter branch skips a number
    # ("Bước 1/8" → "Bước 3/8") rather than counting one step twice.
    longest = [d if d is not None else i for i, d in enumerate(depth)]
    for _ in range(n):
        for i in range(n):
            for j in follow[i]:
                if depth[i] is not None and depth[j] is not None and longest[i] + 1 > longest[j] and j != 0:
                    longest[j] = min(longest[i] + 1, n)
    position = [d + 1 for d in longest]
    total = [position[i] + length(i) - 1 for i in range(n)]
    return _Shape(choices, nexts, prev, position, total)


def _load_guide_sources(root: Path, env: jinja2.Environment, faults: list[Fault]) -> dict[str, _GuideSource]:
    sources: dict[str, _GuideSource] = {}
    for path in sorted((root / "guides").glob("*.y*ml")):
        name = _rel(path, root)
        parsed = _read_yaml(path, root, faults)
        if parsed is None:
            continue
        data, node = parsed
        model = _validate(GuideModel, data, name, node, faults)
        if model is None:
            continue
        if model.id != path.stem:
            faults.append(
                Fault(
                    name,
                    "id",
                    f"id {model.id!r} differs from the file name {path.stem!r}",
                    _line_of(node, ["id"]),
                )
            )
            continue
        if model.id in sources:
            faults.append(
                Fault(
                    name,
                    "id",
                    f"duplicate guide id {model.id!r} (also in {sources[model.id].name})",
                    _line_of(node, ["id"]),
                )
            )
            continue
        source = _GuideSource(model, name, node, shape=_shape(model, name, node, faults))
        for i, step in enumerate(model.steps):
            source.templates.append(
                _compile(env, step.text, name, f"steps[{i}].text", _line_of(node, ["steps", i, "text"]), faults)
            )
        seen_answers: set[str] = set()
        for i, answer in enumerate(model.answers):
            line = _line_of(node, ["answers", i, "answer"])
            if answer.id in seen_answers:
                faults.append(Fault(name, f"answers[{i}].id", f"answer id {answer.id!r} is used twice", line))
            seen_answers.add(answer.id)
            source.answer_templates.append(_compile(env, answer.answer, name, f"answers[{i}].answer", line, faults))
        sources[model.id] = source
    return sources


def _render_guide(source: _GuideSource, commune: Commune, faults: list[Fault]) -> Guide:
    context = commune.template_context()

    def render(template: jinja2.Template | None, where: list[str | int]) -> str:
        text: str | None = None
        if template is not None:
            text, problem = _render(template, context)
            if problem:
                line = _line_of(source.node, where)
                faults.append(Fault(source.name, _field_name(where), f"{problem} (commune {commune.code})", line))
        return text if text else FALLBACK_TEXT

    m = source.model
    shape = source.shape or _shape(m, source.name, source.node, [])
    steps = tuple(
        Step(
            text=render(template, ["steps", i, "text"]),
            choices=tuple(Choice(label, target + 1) for label, target in shape.choices[i]),
            next=_one_based(shape.next[i]),
            prev=_one_based(shape.prev[i]),
            position=shape.position[i],
            total=shape.total[i],
            wait=m.steps[i].wait,
        )
        for i, template in enumerate(source.templates)
    )
    answers = tuple(
        QuickAnswer(a.id, a.question, render(template, ["answers", i, "answer"]), tuple(a.examples))
        for i, (a, template) in enumerate(zip(m.answers, source.answer_templates, strict=True))
    )
    guide = Guide(
        id=m.id,
        topic=m.topic,
        title=m.title,
        summary=m.summary,
        keywords=tuple(k for k in m.keywords if k),
        sources=tuple(Source(s.name, s.url) for s in m.sources),
        last_checked=m.last_checked,
        steps=steps,
        examples=tuple(m.examples),
        answers=answers,
    )
    for i in range(guide.total):
        if utf16_len(step_message(guide, i + 1)) > TELEGRAM_MAX_TEXT:
            faults.append(
                Fault(
                    source.name,
                    f"steps[{i}].text",
                    f"step is longer than Telegram's {TELEGRAM_MAX_TEXT} characters",
                    _line_of(source.node, ["steps", i, "text"]),
                )
            )
    return guide


def _one_based(index: int | None) -> int | None:
    return None if index is None else index + 1


def step_message(guide: Guide, step: int) -> str:
    """The text of one guide step as a person sees it: title, "Bước k/n", text; sources where it ends."""
    shown = guide.steps[step - 1]
    text = f"📘 {guide.title}\nBước {shown.position}/{shown.total}\n\n{shown.text}"
    if shown.ends:
        checked = guide.last_checked.strftime("%d/%m/%Y")
        sources = "\n".join(f"📎 Nguồn: {s.name} — {s.url}" for s in guide.sources)
        text += f"\n\n{sources}\n🗓 Kiểm tra lần cuối: {checked}"
    return text


def _load_topics(root: Path, guide_ids: set[str], faults: list[Fault]) -> tuple[Topic, ...]:
    path = root / "topics.yaml"
    parsed = _read_yaml(path, root, faults) if path.exists() else None
    if parsed is None:
        if not path.exists():
            faults.append(Fault(_rel(path, root), "", "missing topics file"))
        return ()
    data, node = parsed
    name = _rel(path, root)
    model = _validate(TopicsModel, data, name, node, faults)
    if model is None:
        return ()
    topics: list[Topic] = []
    for i, topic in enumerate(model.topics):
        known = []
        for j, gid in enumerate(topic.guides):
            if gid in guide_ids:
                known.append(gid)
            else:
                faults.append(
                    Fault(
                        name,
                        f"topics[{i}].guides[{j}]",
                        f"unknown guide {gid!r}",
                        _line_of(node, ["topics", i, "guides", j]),
                    )
                )
        topics.append(Topic(topic.id, topic.title, tuple(known)))
    return tuple(topics)


def _load_actions(root: Path, faults: list[Fault]) -> tuple[Action, ...]:
    path = root / "actions.yaml"
    parsed = _read_yaml(path, root, faults) if path.exists() else None
    if parsed is None:
        if not path.exists():
            faults.append(Fault(_rel(path, root), "", "missing actions file"))
        return ()
    data, node = parsed
    model = _validate(ActionsModel, data, _rel(path, root), node, faults)
    if model is None:
        return ()
    for i, action in enumerate(model.actions):
        if action.id not in ACTION_IDS:
            faults.append(
                Fault(
                    _rel(path, root),
                    f"actions[{i}].id",
                    f"unknown action {action.id!r}",
                    _line_of(node, ["actions", i, "id"]),
                )
            )
    return tuple(
        Action(a.id, a.title, tuple(a.keywords), tuple(a.examples)) for a in model.actions if a.id in ACTION_IDS
    )


def _load_smalltalk(
    root: Path, env: jinja2.Environment, context: Mapping[str, Any], faults: list[Fault]
) -> tuple[tuple[Smalltalk, ...], tuple[str, ...]]:
    """Greetings, thanks, scam reports…: one-line answers; and what is off-topic."""
    path = root / "smalltalk.yaml"
    name = _rel(path, root)
    parsed = _read_yaml(path, root, faults) if path.exists() else None
    if parsed is None:
        if not path.exists():
            faults.append(Fault(name, "", "missing small-talk file"))
        return (), ()
    data, node = parsed
    model = _validate(SmalltalkFileModel, data, name, node, faults)
    if model is None:
        return (), ()
    intents = []
    for i, intent in enumerate(model.intents):
        line = _line_of(node, ["intents", i, "answer"])
        if intent.id not in SMALLTALK_IDS:
            faults.append(Fault(name, f"intents[{i}].id", f"unknown small-talk intent {intent.id!r}", line))
            continue
        template = _compile(env, intent.answer, name, f"intents[{i}].answer", line, faults)
        text, problem = _render(template, context) if template is not None else (None, None)
        if problem:
            faults.append(Fault(name, f"intents[{i}].answer", problem, line))
        intents.append(Smalltalk(intent.id, text or FALLBACK_TEXT, tuple(intent.examples)))
    for missing in sorted(set(SMALLTALK_IDS) - {s.id for s in intents}):
        faults.append(Fault(name, "intents", f"small-talk intent {missing!r} is missing"))
    return tuple(intents), tuple(model.off_topic)


def _load_strings(
    root: Path, env: jinja2.Environment, context: Mapping[str, Any], faults: list[Fault]
) -> dict[str, jinja2.Template]:
    templates: dict[str, jinja2.Template] = {}
    for path in sorted((root / "strings").glob("*.yaml")):
        name = _rel(path, root)
        parsed = _read_yaml(path, root, faults)
        if parsed is None:
            continue
        data, node = parsed
        if not isinstance(data, dict):
            faults.append(Fault(name, "", "must be a mapping of message keys to texts"))
            continue
        for key, text in data.items():
            line = _line_of(node, [str(key)])
            if not isinstance(text, str) or not text.strip():
                faults.append(Fault(name, str(key), "must be a non-empty text", line))
                continue
            template = _compile(env, text, name, str(key), line, faults)
            if template is None:
                continue
            undeclared = meta.find_undeclared_variables(env.parse(text)) - set(context) - RUNTIME_VARIABLES
            if undeclared:
                faults.append(Fault(name, str(key), f"unknown variable(s): {', '.join(sorted(undeclared))}", line))
                continue
            templates[str(key)] = template
    return templates


def load_content(root: Path, commune_code: str) -> Content:
    """Load what can be served for one commune; faults are logged and returned, not raised."""
    env = make_environment()
    commune = load_commune(root, commune_code)
    faults: list[Fault] = []
    sources = _load_guide_sources(root, env, faults)
    guides = {gid: _render_guide(src, commune, faults) for gid, src in sources.items()}
    topics = _load_topics(root, set(guides), faults)
    actions = _load_actions(root, faults)
    context = commune.template_context()
    smalltalk, off_topic = _load_smalltalk(root, env, context, faults)
    templates = _load_strings(root, env, context, faults)
    if not templates:
        raise ContentError("no bot strings could be loaded from content/strings/")
    for fault in faults:
        log.error("content fault: %s", fault)
    strings = Strings(templates, context)
    return Content(commune, guides, topics, actions, strings, tuple(faults), smalltalk, off_topic)


def check_content(root: Path) -> list[Fault]:
    """Every fault in the content folder, for every commune (what `dvcbot guides check` prints)."""
    env = make_environment()
    faults: list[Fault] = []
    communes = [c for c in (_load_commune_file(p, root, faults) for p in commune_files(root)) if c]
    if not communes and not faults:
        faults.append(Fault("communes", "", "no commune settings file in content/communes/"))
    sources = _load_guide_sources(root, env, faults)
    for gid in GUIDE_IDS:
        if gid not in sources and not any(f.file.endswith(f"{gid}.yaml") for f in faults):
            faults.append(Fault(f"guides/{gid}.yaml", "", "required guide is missing"))
    topics = _load_topics(root, set(sources), faults)
    in_topics = [gid for t in topics for gid in t.guide_ids]
    for gid, src in sources.items():
        if in_topics.count(gid) != 1:
            faults.append(
                Fault(
                    src.name,
                    "topic",
                    f"guide must be listed in exactly one topic of topics.yaml (found {in_topics.count(gid)})",
                    _line_of(src.node, ["topic"]),
                )
            )
        topic = next((t for t in topics if t.id == src.model.topic), None)
        if topic is None or gid not in topic.guide_ids:
            faults.append(
                Fault(
                    src.name,
                    "topic",
                    f"topic {src.model.topic!r} does not list this guide",
                    _line_of(src.node, ["topic"]),
                )
            )
        if src.model.last_checked > date.today():
            faults.append(
                Fault(src.name, "last_checked", "date is in the future", _line_of(src.node, ["last_checked"]))
            )
    actions = _load_actions(root, faults)
    for commune in communes:
        for src in sources.values():
            _render_guide(src, commune, faults)
        _load_strings(root, env, commune.template_context(), faults)
        _load_smalltalk(root, env, commune.template_context(), faults)
    context = communes[0].template_context() if communes else {}
    smalltalk, off_topic = _load_smalltalk(root, env, context, [])
    faults += _example_faults(root, sources, actions, smalltalk, off_topic)
    return _dedupe(faults)


def _example_faults(
    root: Path,
    sources: Mapping[str, _GuideSource],
    actions: Iterable[Action],
    smalltalk: Iterable[Smalltalk],
    off_topic: Iterable[str],
) -> list[Fault]:
    """Enough examples for every intent, none too long, and none shared by two intents."""
    faults: list[Fault] = []
    owner: dict[str, str] = {}

    def check(file: str, where: list[str | int], intent: str, kind: str, examples: Iterable[str], node: Any) -> None:
        examples = list(examples)
        line = _line_of(node, where)
        if len(examples) < MIN_EXAMPLES[kind]:
            faults.append(
                Fault(file, _field_name(where), f"{len(examples)} examples; at least {MIN_EXAMPLES[kind]} needed", line)
            )
        for i, example in enumerate(examples):
            at = _line_of(node, [*where, i])
            if not example.strip() or len(example) > MAX_EXAMPLE:
                faults.append(Fault(file, _field_name([*where, i]), f"must be 1..{MAX_EXAMPLE} characters", at))
                continue
            key = normalise(example)
            other = owner.setdefault(key, intent)
            if other != intent:
                faults.append(Fault(file, _field_name([*where, i]), f"the same example is also given for {other}", at))

    for gid, src in sources.items():
        check(src.name, ["examples"], gid, "guide", src.model.examples, src.node)
        for i, answer in enumerate(src.model.answers):
            check(src.name, ["answers", i, "examples"], f"{gid}#{answer.id}", "answer", answer.examples, src.node)
    actions_file = _rel(root / "actions.yaml", root)
    actions_node = _node_of(root / "actions.yaml")
    for i, action in enumerate(actions):
        check(actions_file, ["actions", i, "examples"], action.id, "action", action.examples, actions_node)
    talk_file = _rel(root / "smalltalk.yaml", root)
    talk_node = _node_of(root / "smalltalk.yaml")
    for i, intent in enumerate(smalltalk):
        check(talk_file, ["intents", i, "examples"], intent.id, "smalltalk", intent.examples, talk_node)
    check(talk_file, ["off_topic"], "none", "off_topic", off_topic, talk_node)
    return faults


def _node_of(path: Path) -> yaml.Node | None:
    try:
        return yaml.compose(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None


def _dedupe(faults: list[Fault]) -> list[Fault]:
    seen: set[Fault] = set()
    out: list[Fault] = []
    for fault in faults:
        if fault not in seen:
            seen.add(fault)
            out.append(fault)
    return out


_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def valid_payload(payload: str) -> bool:
    """Deep-link payloads are what Telegram allows in ?start=: A-Z a-z 0-9 _ -, at most 64."""
    return bool(_PAYLOAD.match(payload))


_LOADED: dict[tuple[str, str, tuple[tuple[str, int, int], ...]], Content] = {}


def load_content_once(root: Path, commune_code: str) -> Content:
    """`load_content`, reused while no file under `root` changed.

    Compiling every guide's templates takes ~0.4 s; a process that builds the bot more than once (the
    demo, benchmarks, the test suite) pays it once. Any edit to a content file changes the key.
    """
    files = sorted(p for p in root.rglob("*") if p.is_file())
    stamp = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    key = (str(root.resolve()), commune_code, stamp)
    if key not in _LOADED:
        _LOADED.clear()  # one content at a time is what a process serves
        _LOADED[key] = load_content(root, commune_code)
    return _LOADED[key]


def official_name(code: str) -> str | None:
    """The commune's name in the official list of 3,321 communes (the `vietnam-provinces` package)."""
    from vietnam_provinces import Ward, WardCode

    try:
        return str(Ward.from_code(WardCode(int(code))).name) if code.isdigit() else None
    except (ValueError, KeyError):
        return None
