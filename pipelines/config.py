"""The council's configuration: one TOML file (``cld.toml``), secrets only from the environment.

Lookup order for the file: the ``--config`` option, then ``$CLD_CONFIG``, then ``./cld.toml``,
then the sample council's ``cld.toml`` at the project root. Relative paths in the file are
resolved against the folder that holds the file, so a council can keep its config anywhere.

Secrets never live in the file:

* ``CLD_DATABASE_URL``  – the case-management database (SQLAlchemy URL); without it the
  embedded sample database named by ``[source] sample_db`` is used.
* ``CLD_SMTP_PASSWORD`` – the SMTP password for delivering exception lists.
"""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cld_schema import RELEASES
from cld_schema.errors import CldError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG_NAME = "cld.toml"
ENV_CONFIG = "CLD_CONFIG"
ENV_DATABASE_URL = "CLD_DATABASE_URL"
ENV_SMTP_PASSWORD = "CLD_SMTP_PASSWORD"


class ConfigError(CldError):
    """A missing or malformed configuration; the message names the file and the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CouncilConfig(_Section):
    la_code: str = Field(description="The council's CASSR code, as sent in LA_Code")
    name: str = "Unnamed council"

    @field_validator("la_code")
    @classmethod
    def _la_code_digits(cls, v: str) -> str:
        if not v.isdigit() or not 1 <= len(v) <= 3:
            raise ValueError("must be the council's 1-3 digit CASSR code, e.g. '999'")
        return v


class PathsConfig(_Section):
    output_dir: Path = Path("out")
    history_db: Path = Path("out/history.duckdb")
    quarantine_dir: Path = Path("out/quarantine")
    mappings_dir: Path = Path("data/sample/mappings")
    sql_dir: Path = Path("sql")
    feeds_dir: Path = Path("out/sample/feeds")
    contracts_dir: Path = Path("data/sample/contracts")


class SourceConfig(_Section):
    # Not a secret: the embedded sample database, used when CLD_DATABASE_URL is unset.
    sample_db: Path = Path("out/sample/council.db")
    read_engine: Literal["auto", "sqlalchemy", "arrow-odbc"] = "auto"
    # Seconds a query waits for a table another session has locked before the build stops
    # with an error (PostgreSQL), instead of hanging.
    lock_timeout: float = Field(60.0, gt=0)
    # PostgreSQL through psycopg: how many extract queries run at once, each on its own
    # connection sharing one snapshot (1: one after another, for a server that allows this
    # login few connections). Other sources read one query at a time.
    connections: int = Field(3, ge=1, le=16)


class SubmissionConfig(_Section):
    release: str = "auto"  # auto, or a release named in cld_schema/data/releases.yaml

    @field_validator("release")
    @classmethod
    def _known_release(cls, v: str) -> str:
        if v != "auto" and v not in RELEASES:
            raise ValueError(f"use auto or one of {', '.join(RELEASES)}, not {v!r}")
        return v
    header_style: Literal["label", "database"] = "label"
    gzip: bool = False


class SmtpConfig(_Section):
    host: str = "localhost"
    port: int = 25
    starttls: bool = False
    username: str | None = None
    sender: str = "cld-pipeline@localhost"


class ChecksConfig(_Section):
    # Per-field completeness thresholds and volume bounds (quantitative checks); a council can
    # point this at its own copy.
    thresholds: Path = Path("data/sample/thresholds.yaml")


class DeliveryConfig(_Section):
    mode: Literal["email", "folder"] = "folder"
    # team -> manager e-mail addresses (CSV: team_id,team_name,email)
    directory: Path = Path("data/sample/team_directory.csv")
    folder: Path = Path("out/exceptions")
    retries: int = 3
    # what the team lists ask for is due this many days after they are sent (e-mail, page)
    deadline_days: int = Field(default=10, ge=0, le=366)


class FeedbackConfig(_Section):
    # How the NHS-number matching feedback file is laid out (columns, encoding, date format).
    layout: Path = Path("data/sample/feedback_layout.yaml")


class RunsConfig(_Section):
    # The day that stands in for today when a run picks its period (quarterly: the latest
    # quarter ended by then; nightly: the rolling year up to it). Unset: the real date. For a
    # database whose data stop on a known day (the sample council, a frozen copy).
    reference_date: date | None = None


class Config(_Section):
    council: CouncilConfig
    paths: PathsConfig = PathsConfig()
    source: SourceConfig = SourceConfig()
    submission: SubmissionConfig = SubmissionConfig()
    smtp: SmtpConfig = SmtpConfig()
    checks: ChecksConfig = ChecksConfig()
    delivery: DeliveryConfig = DeliveryConfig()
    feedback: FeedbackConfig = FeedbackConfig()
    runs: RunsConfig = RunsConfig()

    # Where the file was read from; relative paths resolve against its folder.
    file: Path = Field(default=Path(DEFAULT_CONFIG_NAME), exclude=True)

    def path(self, p: Path) -> Path:
        """Resolve a path from the config against the config file's folder."""
        return p if p.is_absolute() else (self.file.parent / p).resolve()

    @property
    def database_url(self) -> str:
        """The case-management database: ``$CLD_DATABASE_URL`` or the embedded sample."""
        url = os.environ.get(ENV_DATABASE_URL)
        if url:
            return url
        return f"sqlite:///{self.path(self.source.sample_db)}"

    def today(self) -> date:
        """Today for choosing a run's period: ``[runs] reference_date``, else the real date."""
        return self.runs.reference_date or date.today()

    @property
    def smtp_password(self) -> str | None:
        return os.environ.get(ENV_SMTP_PASSWORD)


def read_utf8(path: Path, what: str) -> str:
    """A settings file's text (UTF-8, a byte-order mark allowed); anything else is a
    :class:`ConfigError` saying where the first bad byte is and what to do."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read {what} ({exc.strerror or exc})") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigError(f"{path}: saved as UTF-16; save {what} as UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}: line {line} is not UTF-8 text (byte 0x{data[exc.start]:02x}, e.g. a £ or "
            f"é saved as Latin-1/Windows-1252); save {what} as UTF-8"
        ) from None


def read_yaml(path: Path, what: str) -> object:
    """A settings YAML file (thresholds, layouts, contracts) parsed; a mistake is one line
    naming the file, the line and column, and what YAML expected."""
    import yaml

    text = read_utf8(path, what)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise ConfigError(f"{path}: not valid YAML{where} ({problem})") from None


def _dotted(loc: tuple[object, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def validation_text(exc: ValidationError,
                    key_of: Callable[[tuple[object, ...]], str] = _dotted) -> str:
    """A pydantic error on one line: each problem as ``key a.b: message`` (``key_of`` names
    the key; no input values, no documentation links)."""
    problems = []
    for err in exc.errors():
        key = key_of(err["loc"])
        if err["type"] == "missing":
            problems.append(f"missing key {key}")
        elif err["type"] == "extra_forbidden":
            problems.append(f"unknown key {key}")
        elif err["type"] == "string_type" and isinstance(err.get("input"), int | float):
            problems.append(f"key {key}: write it in quotes, e.g. \"{err['input']}\"")
        else:
            problems.append(f"key {key}: {err['msg']}")
    return "; ".join(problems)


def find_config(explicit: Path | str | None = None) -> Path:
    """Which config file to read (see the module docstring for the order)."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(ENV_CONFIG)
    if env:
        return Path(env)
    local = Path.cwd() / DEFAULT_CONFIG_NAME
    if local.exists():
        return local
    return PROJECT_ROOT / DEFAULT_CONFIG_NAME


def _key_of(loc: tuple[object, ...]) -> str:
    parts = [str(p) for p in loc]
    if len(parts) == 1:
        return parts[0]
    return f"[{parts[0]}] " + ".".join(parts[1:])


def load_config(explicit: Path | str | None = None) -> Config:
    """Read and validate the config file; any problem raises :class:`ConfigError`."""
    path = find_config(explicit)
    if not path.exists():
        raise ConfigError(
            f"configuration file {path} not found: make one with `cld init FOLDER --la-code "
            f"CODE --name NAME`, or point --config / ${ENV_CONFIG} at yours"
        )
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder, not a configuration file")
    try:
        raw = tomllib.loads(read_utf8(path, "the configuration"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        cfg = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: " + validation_text(exc, _key_of)) from None
    cfg.file = path.resolve()
    if explicit is None and cfg.file == (PROJECT_ROOT / DEFAULT_CONFIG_NAME).resolve() and (
        os.environ.get(ENV_DATABASE_URL) and not os.environ.get(ENV_CONFIG)
    ):
        # a council's database with the sample council's settings: a forgotten CLD_CONFIG
        logging.getLogger(__name__).warning(
            "using the sample council's config %s (council %s) with the database in $%s: "
            "set $%s or --config to your council's cld.toml", cfg.file, cfg.council.la_code,
            ENV_DATABASE_URL, ENV_CONFIG,
        )
    return cfg
