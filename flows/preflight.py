"""``preflight``: is this machine ready to run the council's flows? (on demand)

Loads the council's config, connects to the case-management database and checks that the
output folders can be written. Returns and shows only names, paths and yes/no answers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task

from flows.common import config as load_cfg
from flows.common import publish_summary


@task(name="database reachable", retries=2, retry_delay_seconds=5)
def database_reachable(config_file: str) -> str:
    """Connect and ``SELECT 1``. Takes the config file, never the URL, which may hold secrets."""
    import sqlalchemy as sa

    engine = sa.create_engine(load_cfg(config_file).database_url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    finally:
        engine.dispose()
    return engine.url.get_backend_name()


@task(name="folders writable")
def folders_writable(folders: list[str]) -> dict[str, bool]:
    result: dict[str, bool] = {}
    for folder in folders:
        path = Path(folder)
        try:
            path.mkdir(parents=True, exist_ok=True)
            probe = path / ".cld-write-probe"
            probe.write_text("ok", encoding="utf-8")
            probe.unlink()
            result[folder] = True
        except OSError:
            result[folder] = False
    return result


@flow(name="preflight")
def preflight(config: str | None = None) -> dict[str, Any]:
    """Check config, database and output folders; fails when any of them is not usable."""
    cfg = load_cfg(config)
    logger = get_run_logger()
    backend = database_reachable(str(cfg.file))
    folders = folders_writable(
        [str(cfg.path(cfg.paths.output_dir)), str(cfg.path(cfg.paths.history_db).parent)]
    )
    facts = {
        "council": f"{cfg.council.name} ({cfg.council.la_code})",
        "config": str(cfg.file),
        "database": backend,
        "folders writable": all(folders.values()),
    }
    publish_summary("Preflight", "preflight", facts)
    logger.info("preflight: database %s, folders writable %s", backend, all(folders.values()))
    if not all(folders.values()):
        bad = ", ".join(f for f, ok in folders.items() if not ok)
        raise RuntimeError(f"cannot write to {bad}")
    return {"la_code": cfg.council.la_code, "database": backend, "folders": folders}
