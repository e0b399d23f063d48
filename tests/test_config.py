from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import Settings
from bot.store import DatabaseUrlError, sqlite_path_from_url

ROOT = Path(__file__).resolve().parent.parent


def test_env_example_documents_exactly_the_settings() -> None:
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    fields = {name.upper() for name in Settings.model_fields}
    assert documented == fields


def test_every_setting_has_a_help_text() -> None:
    assert all(field.description for field in Settings.model_fields.values())


def test_defaults_serve_the_sample_commune_without_anything_but_a_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:x")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.commune == "11242"
    assert settings.database_url == "sqlite:///data/dvcbot.db"
    assert settings.timezone == "Asia/Ho_Chi_Minh"
    assert settings.telegram_token() == "1:x"


def test_database_url_forms(tmp_path: Path) -> None:
    assert sqlite_path_from_url("sqlite:///data/dvcbot.db", cwd=tmp_path) == tmp_path / "data" / "dvcbot.db"
    assert sqlite_path_from_url("sqlite:////var/lib/x.db") == Path("/var/lib/x.db")
    assert sqlite_path_from_url("sqlite:///:memory:") is None
    with pytest.raises(DatabaseUrlError, match="PostgreSQL"):
        sqlite_path_from_url("postgresql://u@h/db")
    with pytest.raises(DatabaseUrlError):
        sqlite_path_from_url("mysql://x")


def test_commune_must_be_a_code(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError):
        Settings(_env_file=None, commune="../etc")  # type: ignore[call-arg]
