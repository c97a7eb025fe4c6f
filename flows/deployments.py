"""The council's deployments as Python objects, read from ``prefect.yaml``: one source of truth
for names, schedules and parameters, whether a worker runs them (``prefect deploy``) or
``cld serve`` serves them from one process (``flow.serve``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from flows.settings import PROJECT_ROOT

PREFECT_YAML = PROJECT_ROOT / "prefect.yaml"
# Deployments `cld serve` leaves out by default: the multi-council fan-out is for hosts that
# run a worker against a standing server, not for one council's machine.
NOT_SERVED_BY_DEFAULT = ("all-councils",)


@dataclass(frozen=True)
class DeploymentSpec:
    name: str
    entrypoint: str
    description: str
    tags: tuple[str, ...]
    parameters: dict[str, Any]
    schedules: tuple[dict[str, Any], ...]

    def load_flow(self) -> Any:
        """The flow object, imported as a module (``flows/quarterly.py`` -> ``flows.quarterly``)
        so that a served run finds it from any working directory."""
        import importlib

        path, func = self.entrypoint.split(":")
        module = path.removesuffix(".py").replace("/", ".")
        return getattr(importlib.import_module(module), func)

    def schedule_text(self) -> str:
        parts = []
        for s in self.schedules:
            when = f"cron {s['cron']}" if "cron" in s else f"every {s.get('interval')} s"
            tz = f" {s['timezone']}" if s.get("timezone") else ""
            off = "" if s.get("active", True) else " (off)"
            parts.append(f"{when}{tz}{off}")
        return "; ".join(parts) or "on demand"


def read_specs(path: Path = PREFECT_YAML) -> list[DeploymentSpec]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        DeploymentSpec(
            name=d["name"],
            entrypoint=d["entrypoint"],
            description=" ".join(str(d.get("description") or "").split()),
            tags=tuple(d.get("tags") or ()),
            parameters=dict(d.get("parameters") or {}),
            schedules=tuple(d.get("schedules") or ()),
        )
        for d in raw.get("deployments") or []
    ]


def select(specs: list[DeploymentSpec], only: list[str] | None) -> list[DeploymentSpec]:
    """The deployments named in ``only`` (all served ones when empty); unknown names raise."""
    if not only:
        return [s for s in specs if s.name not in NOT_SERVED_BY_DEFAULT]
    by_name = {s.name: s for s in specs}
    unknown = [n for n in only if n not in by_name]
    if unknown:
        raise ValueError(
            f"unknown deployment(s) {', '.join(unknown)}: choose from {', '.join(by_name)}"
        )
    return [by_name[n] for n in only]


def _schedule(s: dict[str, Any]) -> Any:
    from prefect.schedules import Cron, Interval

    common = {"timezone": s.get("timezone"), "active": s.get("active", True)}
    if "cron" in s:
        return Cron(s["cron"], **common)
    return Interval(float(s["interval"]), **common)


def runner_deployments(
    specs: list[DeploymentSpec], config: Path | None = None, schedules: bool = True
) -> list[Any]:
    """``flow.to_deployment`` for each spec; ``config`` goes to every flow that takes one."""
    from prefect.types.entrypoint import EntrypointType

    out = []
    for spec in specs:
        flow = spec.load_flow()
        params = dict(spec.parameters)
        if config is not None and "config" in flow.parameters.properties:
            params["config"] = str(config)
        out.append(
            flow.to_deployment(
                name=spec.name,
                description=spec.description or None,
                tags=list(spec.tags),
                parameters=params,
                schedules=[_schedule(s) for s in spec.schedules] if schedules else None,
                entrypoint_type=EntrypointType.MODULE_PATH,
            )
        )
    return out
