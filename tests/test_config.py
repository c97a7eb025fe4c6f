from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.config import ConfigError, load_config
from tests.conftest import PROJECT_ROOT

GOOD = """
[council]
la_code = "123"
[paths]
output_dir = "outdir"
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "cld.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_sample_config_loads() -> None:
    cfg = load_config(PROJECT_ROOT / "cld.toml")
    assert cfg.council.la_code == "999"
    assert cfg.submission.header_style == "label"


def test_relative_paths_resolve_against_config_folder(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, GOOD))
    assert cfg.path(cfg.paths.output_dir) == (tmp_path / "outdir").resolve()


def test_database_url_from_environment_only(tmp_path: Path, monkeypatch) -> None:
    cfg = load_config(_write(tmp_path, GOOD))
    assert cfg.database_url.startswith("sqlite:///")
    monkeypatch.setenv("CLD_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert cfg.database_url == "postgresql+psycopg://u@h/db"


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml"):
        load_config(tmp_path / "nope.toml")


def test_missing_key_names_key_and_file(tmp_path: Path) -> None:
    p = _write(tmp_path, "[council]\nname = 'x'\n")
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert "[council] la_code" in str(e.value) and str(p) in str(e.value)


def test_malformed_value_names_key(tmp_path: Path) -> None:
    p = _write(tmp_path, GOOD + "[submission]\nheader_style = 'spaced'\n")
    with pytest.raises(ConfigError, match=r"\[submission\] header_style"):
        load_config(p)


def test_unknown_key_is_refused(tmp_path: Path) -> None:
    p = _write(tmp_path, GOOD + "[smtp]\npasword = 'x'\n")
    with pytest.raises(ConfigError, match=r"unknown key \[smtp\] pasword"):
        load_config(p)


def test_secret_keys_are_not_accepted_in_file(tmp_path: Path) -> None:
    p = _write(tmp_path, GOOD + "[smtp]\npassword = 'secret'\n")
    with pytest.raises(ConfigError, match="password"):
        load_config(p)


def test_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(_write(tmp_path, "[council\n"))


def test_bad_la_code(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="la_code"):
        load_config(_write(tmp_path, "[council]\nla_code = 'ABCD'\n"))


def test_reference_date_stands_in_for_today(tmp_path: Path) -> None:
    import datetime as dt

    from pipelines.sample import DEFAULT_REFERENCE

    # The sample's config runs on the day its data stop; a council's (unset) on the real date.
    assert load_config(PROJECT_ROOT / "cld.toml").today() == DEFAULT_REFERENCE
    assert load_config(_write(tmp_path, GOOD)).today() == dt.date.today()
    cfg = load_config(_write(tmp_path, GOOD + "[runs]\nreference_date = 2025-09-30\n"))
    assert cfg.today() == dt.date(2025, 9, 30)
    with pytest.raises(ConfigError, match=r"\[runs\] reference_date"):
        load_config(_write(tmp_path, GOOD + '[runs]\nreference_date = "last tuesday"\n'))
