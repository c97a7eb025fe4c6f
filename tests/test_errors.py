"""One error base: every exception class defined in pipelines/, checks/, cld_schema/ and flows/
derives from ``CldError`` (so ``cld`` prints it on one line, exit 2), unless it is on the short
list below of internal signals and outcomes, each with its reason."""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cld_schema.errors import CldError

PACKAGES = ("pipelines", "checks", "cld_schema", "flows")

# Not a user's problem to fix, so not a CldError; each is caught or reported on purpose.
NOT_USER_ERRORS = {
    # outcomes: the run did its work and recorded it; `cld` shows the outcome and exits 1
    "pipelines.runs.BlockedSubmission": "outcome: errors block the submission (exit 1)",
    "pipelines.runs.DeliveryFailed": "outcome: some teams' lists were not delivered (exit 1)",
    "pipelines.runs.NoEvents": "outcome: months without events, nothing sent (exit 1)",
    # internal signals, raised and caught inside their own module
    "pipelines.source.extract._Retryable": "a transient failure, retried inside extract()",
    "pipelines.source.feeds._Breach": "a feed limit breached: a quarantine inside feeds",
    "pipelines.outputs.delivery.ServerUnreachable": "an OSError the delivery loop catches to "
    "stop retrying each team; reported per team in delivery_report.csv",
    # Ctrl-C / SIGTERM: unwinds every `finally`, so it must not be an Exception at all
    "pipelines.cli.Stopped": "a stop signal (BaseException on purpose), exit 130/143",
}


def _modules():
    """Every module file, walked on disk so a folder without ``__init__.py`` (a namespace
    package such as pipelines/cqc, which pkgutil does not descend into) is not missed."""
    root = Path(importlib.import_module(PACKAGES[0]).__file__).resolve().parent.parent
    for package in PACKAGES:
        for file in sorted((root / package).rglob("*.py")):
            parts = file.relative_to(root).with_suffix("").parts
            yield importlib.import_module(".".join(parts[:-1] if parts[-1] == "__init__"
                                                   else parts))


def _exception_classes() -> dict[str, type[BaseException]]:
    found = {}
    for module in _modules():
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseException) and obj.__module__ == module.__name__:
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


def test_every_exception_defined_here_is_a_cld_error() -> None:
    found = _exception_classes()
    strays = sorted(n for n, cls in found.items()
                    if not issubclass(cls, CldError) and n not in NOT_USER_ERRORS)
    assert strays == [], f"derive these from cld_schema.errors.CldError: {strays}"
    # the allow-list names classes that exist and are not CldErrors (it does not go stale)
    stale = sorted(n for n in NOT_USER_ERRORS if n not in found or issubclass(found[n], CldError))
    assert stale == [], stale
    # the walk saw the public ones (a broken walk would pass trivially)
    for name in ("cld_schema.spec.SpecError", "pipelines.config.ConfigError",
                 "pipelines.source.extract.SourceUnavailable", "pipelines.build.BuildError",
                 "checks.contract.NotCldFrame", "pipelines.transform.common.ExtractTableError",
                 "pipelines.cqc.run.CqcError"):
        assert issubclass(found[name], CldError), name


def test_cld_prints_any_cld_error_on_one_line_exit_2(tmp_path, monkeypatch, capsys) -> None:
    """main() catches CldError once: no per-command list decides it."""
    from pipelines import cli

    monkeypatch.setattr(sys, "argv", ["cld", "--config", str(tmp_path / "none.toml"), "build",
                                      "--period", "2025-26Q3"])
    with pytest.raises(SystemExit) as stop:
        cli.main()
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert "none.toml not found" in err  # the ConfigError's own message, no command listed it


def test_a_missing_extract_column_is_a_cld_error() -> None:
    import polars as pl

    from pipelines.transform.common import ExtractTableError, table

    with pytest.raises(ExtractTableError, match=r"lacks column.*person_id.*sql/extract/persons"):
        table({"persons": pl.DataFrame({"x": [1]})}, "persons", person_id="id")
    with pytest.raises(CldError, match="no table 'teams'"):
        table({}, "teams", team_id="id")


def test_cli_runner_sees_the_cld_error() -> None:
    from pipelines.cli import app

    r = CliRunner().invoke(app, ["spec", "fields", "--release", "R7"])
    assert isinstance(r.exception, CldError)
