"""Search as people type: unaccented, typos, abbreviations; off-topic finds nothing."""

from __future__ import annotations

import json

import pytest

from bot.cli import main
from bot.config import REPO_CONTENT_DIR
from bot.content import load_content
from bot.search import SearchIndex, fold, query_terms


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return SearchIndex(load_content(REPO_CONTENT_DIR, "11242"))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("lam sao dang ky vneid", "vneid-register"),
        ("Làm sao đăng ký VNeID?", "vneid-register"),
        ("dk tk dinh danh muc 2", "vneid-level2"),
        ("đk vneid ko dc", "vneid-register"),
        ("dnag ky vneid", "vneid-register"),  # transposed letters
        ("dang ki vneid", "vneid-register"),  # i/y
        ("quen mk vneid", "vneid-passcode"),
        ("doi so dien thoai", "vneid-passcode"),
        ("lam sao dang nhap dvc bang vneid", "dvc-login"),
        ("nop ho so truc tuyen", "file-online"),
        ("nộp phí online kiểu gì", "pay-online"),
        ("tra cuu ho so", "track-result"),
        ("khai sinh cho con", "birth-registration"),
        ("bhyt cho tre", "birth-registration"),
        ("khai tu", "death-registration"),
        ("ban sao giay khai sinh", "civil-status-copy"),
        ("chứng thực bản sao điện tử", "certify-copy"),
        ("dang ky kinh doanh", "household-business"),
        ("tien dien", "utility-bills"),
        ("can nguoi giup", "help-request"),
        ("so dien thoai xa", "contact"),
        ("gio lam viec", "contact"),
    ],
)
def test_best_match(index: SearchIndex, query: str, expected: str) -> None:
    hits = index.search(query)
    assert hits, f"nothing found for {query!r}"
    assert hits[0].id == expected, [(h.id, h.score) for h in hits]


@pytest.mark.parametrize(
    "query",
    [
        "xin chao",
        "hello",
        "cam on",
        "ok",
        "thoi tiet hom nay the nao",
        "dm may",
        "bot ngu qua",
        "asdfgh",
        "😀😀",
        "",
        "   ",
        "123456",
    ],
)
def test_off_topic_finds_nothing(index: SearchIndex, query: str) -> None:
    assert index.search(query) == []


def test_results_are_best_first_and_at_most_three(index: SearchIndex) -> None:
    hits = index.search("vneid")
    assert 1 <= len(hits) <= 3
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[0].id == "vneid-register"


def test_folding_and_abbreviations() -> None:
    assert fold("Đăng KÝ  tài-khoản!") == "dang ky tai khoan"
    assert query_terms("dk tk") == ["dang", "ki", "tai", "khoan"]
    assert "ban" in query_terms("bản sao") and "sao" in query_terms("bản sao")  # not dropped as filler


def test_nfd_input_matches_like_nfc(index: SearchIndex) -> None:
    import unicodedata

    nfd = unicodedata.normalize("NFD", "khai sinh cho con")
    assert index.search(nfd)[0].id == "birth-registration"


def test_cli_json_contract(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTENT_DIR", str(REPO_CONTENT_DIR))
    assert main(["guides", "search", "lam sao dang ky vneid", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out[0]["id"] == "vneid-register" and isinstance(out[0]["score"], float)
    assert main(["guides", "search", "xin chao", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
