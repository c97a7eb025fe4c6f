"""Options and helpers shared by every ``cld`` command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipelines.config import Config, ConfigError, load_config
from pipelines.period import PeriodError


class UserError(Exception):
    """A problem the user can fix (bad option, missing file, bad config): printed, exit 2."""


_state: dict[str, Path | None] = {"config": None}


def global_options(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Council config file (default: $CLD_CONFIG, ./cld.toml, then the sample's).",
        ),
    ] = None,
) -> None:
    """Adult social care Client Level Data (CLD): build, check and track quarterly returns."""
    _state["config"] = config


def get_config() -> Config:
    try:
        return load_config(_state["config"])
    except ConfigError as exc:
        raise UserError(str(exc)) from None


def user_errors(*kinds: type[Exception]):
    """Turn expected exceptions into a clean ``UserError`` (used as a context manager)."""
    import contextlib

    @contextlib.contextmanager
    def _cm():
        try:
            yield
        except (ConfigError, PeriodError, *kinds) as exc:
            raise UserError(str(exc)) from None

    return _cm()
