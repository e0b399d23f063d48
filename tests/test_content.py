"""Content validation: the shipped content is clean, and each kind of fault is named with file and line."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import REPO_CONTENT_DIR
from bot.content import GUIDE_IDS, check_content, load_content, step_message
from bot.search import fold


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(REPO_CONTENT_DIR, root)
    return root


def test_shipped_content_has_no_faults() -> None:
    assert [str(f) for f in check_content(REPO_CONTENT_DIR)] == []


def test_the_thirteen_guides_are_served_for_the_sample_commune() -> None:
    content = load_content(REPO_CONTENT_DIR, "11242")
    assert sorted(content.guides) == sorted(GUIDE_IDS)
    assert content.faults == ()
    for guide in content.guides.values():
        assert 3 <= guide.total <= 10
        assert guide.source_url.startswith(("https://", "http://"))
        last = step_message(guide, guide.total)
        assert "Nguồn:" in last and guide.last_checked.strftime("%d/%m/%Y") in last
    assert "Xã Nguyễn Lương Bằng" in content.strings("welcome")


def test_guides_follow_the_content_facts_checklist() -> None:
    """DESIGN/content-facts §15: no district level, no provincial portal, the scam warning is there."""
    content = load_content(REPO_CONTENT_DIR, "11242")
    for guide in content.guides.values():
        text = fold(" ".join(guide.steps))
        assert "huyen" not in text.split(), guide.id
        assert not re.search(r"dichvucong\.[a-z]+\.gov\.vn", " ".join(guide.steps)), guide.id
    for gid in ("vneid-register", "vneid-level2", "vneid-passcode", "dvc-login"):
        text = fold(" ".join(content.guides[gid].steps))
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
    faults = check_content(content_copy)
    hits = [f for f in faults if f.file.endswith("dvc-login.yaml") and "undefined" in f.message]
    assert hits and hits[0].field.startswith("steps[") and "11242" in hits[0].message and hits[0].line


def test_jinja_syntax_error_is_reported(content_copy: Path) -> None:
    path = content_copy / "guides" / "track-result.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("{{", "{{ {{", 1), encoding="utf-8")
    assert any("Jinja2 syntax error" in f.message for f in check_content(content_copy))


def test_missing_source_and_date_duplicate_id_and_long_step(content_copy: Path) -> None:
    guides = content_copy / "guides"
    text = guides / "khai.yaml"
    src = (guides / "death-registration.yaml").read_text(encoding="utf-8")
    no_source = re.sub(r"(?ms)^source:.*?(?=^last_checked:)", "", src)
    no_source = re.sub(r"(?m)^last_checked:.*$", "", no_source)
    (guides / "death-registration.yaml").write_text(no_source, encoding="utf-8")
    text.write_text(src.replace("id: death-registration", "id: khai"), encoding="utf-8")
    long_src = (guides / "utility-bills.yaml").read_text(encoding="utf-8")
    long_step = "  - text: |\n      " + "Rất dài. " * 600 + "\n"
    (guides / "utility-bills.yaml").write_text(
        long_src.replace("steps:\n", "steps:\n" + long_step, 1), encoding="utf-8"
    )
    faults = [str(f) for f in check_content(content_copy)]
    assert any("death-registration.yaml" in f and "source" in f and "Field required" in f for f in faults)
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
