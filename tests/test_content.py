"""Content validation: the shipped content is clean, and each kind of fault is named with file and line."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import REPO_CONTENT_DIR
from bot.content import GUIDE_IDS, check_content, load_content, step_message
from bot.text import fold


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(REPO_CONTENT_DIR, root)
    return root


def test_shipped_content_has_no_faults() -> None:
    assert [str(f) for f in check_content(REPO_CONTENT_DIR)] == []


def test_every_guide_is_served_for_the_sample_commune() -> None:
    content = load_content(REPO_CONTENT_DIR, "11242")
    assert sorted(content.guides) == sorted(GUIDE_IDS)
    assert content.faults == ()
    for guide in content.guides.values():
        assert 2 <= guide.total <= 16
        assert guide.sources and all(s.url.startswith(("https://", "http://")) for s in guide.sources)
        ends = [n for n in range(1, guide.total + 1) if guide.steps[n - 1].ends]
        assert ends, guide.id
        for end in ends:
            last = step_message(guide, end)
            assert "Nguồn:" in last and guide.last_checked.strftime("%d/%m/%Y") in last
    assert "Xã Nguyễn Lương Bằng" in content.strings("welcome")


def test_guides_follow_the_content_facts_checklist() -> None:
    """DESIGN/content-facts §15: no district level, no provincial portal, the scam warning is there."""
    content = load_content(REPO_CONTENT_DIR, "11242")
    for guide in content.guides.values():
        raw = " ".join([*(s.text for s in guide.steps), *(a.text for a in guide.answers)])
        # "huyện" only where the guide says the district level is gone ("không phải lên huyện nữa").
        for sentence in re.split(r"[.!?\n—]", raw):
            words = fold(sentence)
            if "huyen" in words.split():
                assert re.search(r"khong con|khong phai|truoc day", words), (guide.id, sentence)
        assert not re.search(r"dichvucong\.[a-z]+\.gov\.vn", raw), guide.id
    for gid in ("vneid-register", "vneid-level2", "vneid-passcode", "dvc-login"):
        text = fold(" ".join(s.text for s in content.guides[gid].steps))
        assert "otp" in text and "passcode" in text, gid


def test_yaml_syntax_error_is_named_and_the_bot_still_serves_the_rest(content_copy: Path) -> None:
    broken = content_copy / "guides" / "pay-online.yaml"
    broken.write_text(broken.read_text(encoding="utf-8").replace("steps:", "steps: [\n  oops", 1), encoding="utf-8")
    faults = check_content(content_copy)
    assert any(f.file.endswith("pay-online.yaml") and "YAML syntax error" in f.message and f.line for f in faults)
    served = load_content(content_copy, "11242")
    assert "pay-online" not in served.guides
    assert len(served.guides) == len(GUIDE_IDS) - 1


def test_undefined_variable_names_file_field_and_commune(content_copy: Path) -> None:
    path = content_copy / "guides" / "dvc-login.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("{{ portal.url }}", "{{ portal.adress }}", 1), encoding="utf-8")
    broken_line = text[: text.index("{{ portal.url }}")].count("\n") + 1
    faults = check_content(content_copy)
    hits = [f for f in faults if f.file.endswith("dvc-login.yaml") and "undefined" in f.message]
    assert hits and hits[0].field == "answers[1].answer" and "11242" in hits[0].message
    assert hits[0].line is not None and broken_line - 1 <= hits[0].line <= broken_line  # the field's line


def test_jinja_syntax_error_is_reported(content_copy: Path) -> None:
    path = content_copy / "guides" / "track-result.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("{{", "{{ {{", 1), encoding="utf-8")
    assert any("Jinja2 syntax error" in f.message for f in check_content(content_copy))


def test_missing_source_and_date_duplicate_id_and_long_step(content_copy: Path) -> None:
    guides = content_copy / "guides"
    text = guides / "khai.yaml"
    src = (guides / "death-registration.yaml").read_text(encoding="utf-8")
    no_source = re.sub(r"(?ms)^sources:.*?(?=^last_checked:)", "", src)
    no_source = re.sub(r"(?m)^last_checked:.*$", "", no_source)
    (guides / "death-registration.yaml").write_text(no_source, encoding="utf-8")
    text.write_text(src.replace("id: death-registration", "id: khai"), encoding="utf-8")
    long_src = (guides / "utility-bills.yaml").read_text(encoding="utf-8")
    long_step = "  - text: |\n      " + "Rất dài. " * 600 + "\n"
    (guides / "utility-bills.yaml").write_text(
        long_src.replace("steps:\n", "steps:\n" + long_step, 1), encoding="utf-8"
    )
    faults = [str(f) for f in check_content(content_copy)]
    assert any("death-registration.yaml" in f and "sources" in f and "Field required" in f for f in faults)
    assert any("death-registration.yaml" in f and "last_checked" in f for f in faults)
    assert any("utility-bills.yaml" in f and "longer than Telegram" in f for f in faults)
    assert any("khai.yaml" in f and "topic" in f for f in faults)  # a guide no topic lists


def test_guides_check_command_exit_codes(
    content_copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTENT_DIR", str(REPO_CONTENT_DIR))
    assert main(["guides", "check"]) == 0
    (content_copy / "guides" / "vneid-register.yaml").write_text("id: [", encoding="utf-8")
    monkeypatch.setenv("CONTENT_DIR", str(content_copy))
    assert main(["guides", "check"]) == 1
    assert "vneid-register.yaml:1" in capsys.readouterr().out


def _guide(root: Path, gid: str) -> Path:
    return root / "guides" / f"{gid}.yaml"


def test_branching_steps_are_checked_reachable_and_without_loops(content_copy: Path) -> None:
    import yaml

    path = _guide(content_copy, "death-registration")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["steps"] = [
        {
            "id": "ask",
            "text": "Anh/chị hỏi gì?",
            "choices": [{"label": "A", "goto": "a"}, {"label": "B", "goto": "nowhere"}],
        },
        {"id": "a", "text": "Bước A.", "next": "b"},
        {"id": "b", "text": "Bước B.", "next": "a"},
        {"id": "lost", "text": "Không ai tới được đây.", "next": "end"},
    ]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    faults = [str(f) for f in check_content(content_copy) if "death-registration" in f.file]
    assert any("choices[1].goto" in f and "no step 'nowhere'" in f for f in faults), faults
    assert any("steps[3]" in f and "no way leads to this step" in f for f in faults), faults
    assert any("loop back" in f for f in faults), faults


def test_a_first_question_leads_to_the_right_steps() -> None:
    content = load_content(REPO_CONTENT_DIR, "11242")
    branching = [g for g in content.guides.values() if any(s.choices for s in g.steps)]
    assert len(branching) >= 3  # VNeID, payment trouble, and more ask a first question
    for guide in branching:
        for number, step in enumerate(guide.steps, 1):
            for choice in step.choices:
                target = guide.steps[choice.target - 1]
                assert target.prev is not None and 1 <= choice.target <= guide.total, (guide.id, number)
                assert step.position < target.position <= target.total, (guide.id, number)
        for step in guide.steps:  # every way through the guide ends on "Bước n/n"
            if not step.choices and step.next is None:
                assert step.position == step.total, guide.id


def test_examples_are_required_and_never_shared(content_copy: Path) -> None:
    import yaml

    path = _guide(content_copy, "utility-bills")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    stolen = yaml.safe_load(_guide(content_copy, "pay-online").read_text(encoding="utf-8"))["examples"][0]
    data["examples"] = [*data["examples"][:5], stolen.upper()]  # too few, and one belongs to pay-online
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    faults = [str(f) for f in check_content(content_copy)]
    assert any("utility-bills.yaml" in f and "examples" in f and "at least 40" in f for f in faults), faults
    assert any("the same example is also given for" in f for f in faults), faults


def test_every_quick_answer_and_small_talk_renders() -> None:
    content = load_content(REPO_CONTENT_DIR, "11242")
    assert sum(len(g.answers) for g in content.guides.values()) >= 45
    assert {s.id for s in content.smalltalk} == {"greeting", "thanks", "goodbye", "human", "insult", "scam"}
    scam = next(s for s in content.smalltalk if s.id == "scam")
    assert "Công an xã Nguyễn Lương Bằng" in scam.text and "dichvucong.gov.vn" in scam.text
