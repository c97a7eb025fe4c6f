"""The council's thresholds file, read once into its typed parts.

``[checks] thresholds`` in cld.toml names a YAML file (sample: ``data/sample/thresholds.yaml``).
Its sections belong to two users: ``completeness``, ``complete_months``, ``volumes`` and
``previous`` to the quantitative checks (:class:`checks.thresholds.CheckThresholds`), and
``compare`` to the history comparison (:class:`pipelines.history.compare.Thresholds`).
:func:`load` is the file's one reader (``cld check``, the runs, the flows, the reports and
``cld compare`` all call it): it refuses an unknown section or key, a wrong type or a value out
of range with one :class:`~pipelines.config.ConfigError` line naming the file and the key.
The completeness field names depend on the release of the file checked, so they are checked
against its spec by ``CheckThresholds.check_fields`` when the checks run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from checks.thresholds import CheckThresholds, ThresholdsError
from pipelines.config import Config, ConfigError, read_yaml

if TYPE_CHECKING:
    from pipelines.history.compare import Thresholds

# the file's sections: the checks' and the comparison's
SECTIONS = (*CheckThresholds.model_fields, "compare")


@dataclass(frozen=True)
class ThresholdsFile:
    """The thresholds file's two parts, and where it was read from (None: defaults)."""

    checks: CheckThresholds
    compare: Thresholds
    path: Path | None = None


def defaults() -> ThresholdsFile:
    """Every threshold at its default (no file)."""
    from pipelines.history.compare import Thresholds

    return ThresholdsFile(CheckThresholds(), Thresholds())


def load(source: Config | Path | str, *, missing_ok: bool = False) -> ThresholdsFile:
    """Read and validate the thresholds file of a config (``[checks] thresholds``) or at a
    path. A file that is not there is an error naming the setting, unless ``missing_ok``
    (then every threshold takes its default, as ``cld compare`` has always done)."""
    if isinstance(source, Config):
        path = source.path(source.checks.thresholds)
        missing = f"{source.file}: key [checks] thresholds: no such file {path}"
    else:
        path = Path(source)
        missing = f"{path}: no such file (the thresholds file)"
    if not path.is_file():
        if missing_ok:
            return defaults()
        raise ConfigError(missing)
    return parse(read_yaml(path, "the thresholds file"), path)


def parse(raw: object, path: Path) -> ThresholdsFile:
    """The parts from a parsed thresholds file (``path`` names it in the errors)."""
    from pipelines.history.compare import Thresholds

    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the thresholds file must be a mapping of sections")
    for name in raw:
        if name not in SECTIONS:
            raise ConfigError(f"{path}: {name!r} is not a section (the sections: "
                              f"{', '.join(SECTIONS)})")
    try:
        checks = CheckThresholds.parse({k: v for k, v in raw.items() if k != "compare"},
                                       source=path)
        compare = Thresholds.from_section(raw.get("compare"))
    except ThresholdsError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return ThresholdsFile(checks, compare, path)
