"""``cld spec …``: the CLD specification as this tool holds it (``cld_schema/data``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cld_schema import LATEST_RELEASE, RELEASES
from pipelines.cli.common import UserError

Release = Annotated[str, typer.Option("--release", "-r", help=" or ".join(RELEASES) + ".")]


def _spec(release: str):
    from cld_schema import SpecError, load_spec

    if release.upper() not in RELEASES:
        raise UserError(f"unknown release {release!r}: use {' or '.join(RELEASES)}")
    try:
        return load_spec(release)
    except SpecError as exc:
        raise UserError(str(exc)) from None


def fields(release: Release = LATEST_RELEASE) -> None:
    """List the fields in file order: header, type, list, when applicable and mandatory."""
    spec = _spec(release)
    console = Console()
    table = Table(title=f"{spec.title}: {len(spec.fields)} fields", show_lines=False)
    # Names are never cut inside a word ("Reporting_Pe riod_Start_D ate"); on a narrow
    # terminal only the number, the name and when it is mandatory are shown.
    wide = console.width >= 140
    names = [f.name + (" ⚠" if f.uncertain else "") for f in spec.fields]
    table.add_column("#", no_wrap=True)
    table.add_column("field", no_wrap=True, min_width=max(map(len, names)))
    if wide:
        for col in ("type", "list", "module"):
            table.add_column(col, no_wrap=col == "type")
    table.add_column("mandatory when")
    for i, (f, name) in enumerate(zip(spec.fields, names, strict=True), 1):
        extra = [f.type, f.list_name or "", f.module] if wide else []
        table.add_row(str(i), name, *extra, spec.describe(f.mandatory))
    console.print(table)
    Console().print("⚠ = not confirmed by a public source; check against the official spec.")


def lists(
    name: Annotated[str | None, typer.Argument(help="A list name, e.g. Event_Outcome.")] = None,
    release: Release = LATEST_RELEASE,
) -> None:
    """Show the defined lists (all names, or one list's keys and values)."""
    spec = _spec(release)
    console = Console()
    if name is None:
        table = Table(title=f"{spec.release} defined lists")
        table.add_column("list", no_wrap=True)
        table.add_column("values", no_wrap=True)
        table.add_column("used by")
        for ln in sorted(spec.lists):
            users = ", ".join(f.name for f in spec.fields if f.list_name == ln)
            table.add_row(ln, str(len(spec.list(ln).in_release(spec.release))), users)
        console.print(table)
        return
    if name not in spec.lists:
        raise UserError(f"no list {name!r}; known: {', '.join(sorted(spec.lists))}")
    dl = spec.list(name)
    table = Table(title=f"{name} ({spec.release})", caption=dl.note or None)
    for col in ("key", "value", ""):
        table.add_column(col)
    for v in dl.in_release(spec.release):
        flags = ("⚠ " if dl.is_uncertain(v, spec.release) else "") + (
            "do not use" if v.do_not_use else ""
        )
        table.add_row(v.key, v.text(spec.release) or "", flags)
    console.print(table)


def releases() -> None:
    """List the releases (`releases.yaml`): name, first quarter, based on, title."""
    from cld_schema.spec import DATA_DIR, _release_infos

    table = Table(title="CLD releases")
    for col in ("release", "from quarter", "based on", "title"):
        table.add_column(col, no_wrap=col != "title")
    for name, info in _release_infos(DATA_DIR).items():
        table.add_row(name, info.from_quarter, info.based_on or "", info.title)
    Console().print(table)


def diff(
    old: Annotated[str | None, typer.Argument(
        help="Older release (default: the one the newer is based on).")] = None,
    new: Annotated[
        str, typer.Argument(help="Newer release (default: the latest).")
    ] = LATEST_RELEASE,
) -> None:
    """What changed between two releases: fields removed/added/changed, values renamed."""
    from cld_schema.export import diff as spec_diff

    newer = _spec(new)
    if old is None and newer.based_on is None:
        raise UserError(f"{newer.release} is the first release: name the releases to compare")
    for line in spec_diff(_spec(old or newer.based_on), newer).lines():  # type: ignore[arg-type]
        typer.echo(line)


def export(
    ctx: typer.Context,
    format: Annotated[str, typer.Option("--format", "-f", help="md or xlsx.")] = "md",
    release: Release = LATEST_RELEASE,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Output file (default: cld-spec-<release>.<format> in the output "
        "folder, [paths] output_dir).")] = None,
) -> None:
    """Write a readable spec (Markdown or Excel) to check against the official one."""
    from cld_schema.export import to_markdown, to_xlsx
    from pipelines.cli.common import get_config

    spec = _spec(release)
    if format not in ("md", "xlsx"):
        raise UserError(f"unknown format {format!r}: use md or xlsx")
    if out is None:  # beside the other outputs, never loose in the current (git work) folder
        cfg = get_config(ctx)
        out = cfg.path(cfg.paths.output_dir) / f"cld-spec-{spec.release}.{format}"
    target = out
    if format == "md":
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(to_markdown(spec), encoding="utf-8")
    else:
        to_xlsx(spec, target)
    typer.echo(f"wrote {target}")


def checklist(
    ctx: typer.Context,
    release: Release = LATEST_RELEASE,
    format: Annotated[str, typer.Option("--format", "-f", help="xlsx or html.")] = "xlsx",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output file.")] = None,
    team: Annotated[str | None, typer.Option(
        "--team", help="Mistakes of one team (id or name) instead of all teams.")] = None,
) -> None:
    """Write the recording checklist for staff: per event type, the fields to record (when
    each is mandatory) and the picklist values to choose, from the spec of one release; with
    the most frequent mistakes per field from the latest run in history, when one is
    recorded."""
    from pipelines.cli.common import get_config
    from pipelines.history import HistoryError
    from pipelines.outputs.checklist import checklist as make
    from pipelines.outputs.checklist import write_html, write_xlsx
    from pipelines.runs import checklist_mistakes

    if format not in ("xlsx", "html"):
        raise UserError(f"unknown format {format!r}: use xlsx or html")
    spec = _spec(release)
    cfg = get_config(ctx)
    try:
        mistakes, source = checklist_mistakes(cfg, team)
    except HistoryError as exc:
        raise UserError(str(exc)) from None
    if team is not None and (mistakes is None or mistakes.is_empty()):
        typer.secho(f"no findings recorded for team {team!r} in the latest run: the checklist "
                    "has no mistakes column", fg=typer.colors.YELLOW, err=True)
        mistakes, source = None, ""
    lines = make(spec, mistakes)
    suffix = f"_{team.replace(' ', '_')}" if team else ""
    target = out or cfg.path(cfg.paths.output_dir) / f"checklist_{spec.release}{suffix}.{format}"
    if format == "xlsx":
        write_xlsx(spec, lines, target, source)
    else:
        write_html(spec, lines, target, source, council=cfg.council.name)
    typer.echo(f"wrote {target}" + (f" ({source})" if source else ""))


def register(app: typer.Typer) -> None:
    spec_app = typer.Typer(
    rich_markup_mode=None,  # help shows [section] key names as written
    help="Read the CLD specification as this tool holds it.",
                           no_args_is_help=True)
    for fn in (releases, fields, lists, diff, export, checklist):
        spec_app.command(fn.__name__)(fn)
    app.add_typer(spec_app, name="spec")
