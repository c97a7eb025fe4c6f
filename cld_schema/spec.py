"""Load the CLD specification (``cld_schema/data/*.yaml``) into typed, validated models.

Three data files, keyed by release:

* ``fields.yaml``   – Release 1 fields in file order (type, label, list, module, conditions);
* ``lists.yaml``    – every defined list, each value with a stable KEY and its text per release;
* ``releases.yaml`` – each release: date format, encoding, and for later releases the changes
  (fields removed, changed, added) on top of the release they are based on.

Any problem (a list missing, a field naming an unknown list, a condition naming an unknown
field or value key, a value repeated) fails at load time with a :class:`SpecError` naming the
file and the entry, so a wrong edit never reaches a submission.
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cld_schema import conditions as cond_mod
from cld_schema.errors import CldError

# ``CLD_SPEC_DIR`` points the tool at another copy of the spec data (e.g. to try a new release
# before it is committed); the package's own ``data`` folder otherwise.
DATA_DIR = Path(os.environ.get("CLD_SPEC_DIR") or Path(__file__).with_name("data")).resolve()
HeaderStyle = Literal["label", "database"]
FieldType = Literal[
    "code", "date", "text", "list", "integer", "decimal", "nhs_number", "postcode", "person_id"
]
MODULES = (
    "Submission information",
    "Person details",
    "Events (all)",
    "Events (requests only)",
    "Events (assessments only)",
    "Carers and linked service users",
    "Events (services only)",
    "Events (reviews only)",
    "Costs (services only)",
)
_KEY = re.compile(r"^[A-Z][A-Z0-9_]*$")
_QUARTER = re.compile(r"^(\d{4})-(\d{2})Q([1-4])$")
_MAPS_TO = "_maps_to"


class SpecError(CldError):
    """The spec data is inconsistent; the message names the file and the entry."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ListValue(_Strict):
    """One value of a defined list: a stable ``key``, its text per release (one key per release
    named in ``releases.yaml``: ``{key: CARER, R1: Carer, R2: Unpaid carer}``) and, for a value
    a release drops, ``<release>_maps_to: KEY`` (the value it converts to in that release)."""

    key: str
    texts: dict[str, str] = Field(default_factory=dict)
    maps_to: dict[str, str] = Field(default_factory=dict)
    uncertain: bool = False
    do_not_use: bool = False
    needs_planned_units: bool = False

    @model_validator(mode="before")
    @classmethod
    def _per_release(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "texts" in data or "maps_to" in data:
            return data
        own = {"key", "uncertain", "do_not_use", "needs_planned_units"}
        out: dict[str, Any] = {k: v for k, v in data.items() if k in own}
        texts: dict[str, Any] = {}
        maps: dict[str, Any] = {}
        for k, v in data.items():
            if k in own:
                continue
            if k.endswith(_MAPS_TO):
                maps[k[: -len(_MAPS_TO)]] = v
            else:
                texts[k] = v
        out["texts"] = {k: v for k, v in texts.items() if v is not None}
        out["maps_to"] = {k: v for k, v in maps.items() if v is not None}
        return out

    def text(self, release: str) -> str | None:
        return self.texts.get(release)

    def maps_to_in(self, release: str) -> str | None:
        """The key this value converts to in ``release`` (a value that release dropped)."""
        return self.maps_to.get(release)


class DefinedList(_Strict):
    name: str = ""
    note: str = ""
    source: str = ""
    uncertain: list[str] = Field(default_factory=list)  # releases whose spellings are unconfirmed
    values: list[ListValue]

    def in_release(self, release: str) -> list[ListValue]:
        return [v for v in self.values if v.text(release) is not None]

    def is_uncertain(self, value: ListValue, release: str) -> bool:
        return value.uncertain or release in self.uncertain


class FieldSpec(_Strict):
    name: str
    label: str
    type: FieldType
    max_length: int | None = None
    list_name: str | None = Field(default=None, alias="list")
    module: Literal[MODULES]  # type: ignore[valid-type]
    pid: bool = False
    uncertain: bool = False
    applies: Any = "always"
    mandatory: Any = "never"
    description: str = ""
    format: str = ""

    def header(self, style: HeaderStyle) -> str:
        return self.label if style == "label" else self.name


class DerivedField(_Strict):
    name: str
    type: str
    description: str = ""


class ReleaseInfo(_Strict):
    title: str
    from_quarter: str  # first reporting quarter the release applies to, e.g. 2025-26Q2
    date_format: str
    encoding: str
    based_on: str | None = None
    remove_fields: list[str] = Field(default_factory=list)
    change_fields: dict[str, dict[str, Any]] = Field(default_factory=dict)
    add_fields: list[dict[str, Any]] = Field(default_factory=list)


class Spec:
    """One release of the CLD specification."""

    def __init__(
        self,
        release: str,
        info: ReleaseInfo,
        fields: list[FieldSpec],
        lists: dict[str, DefinedList],
        derived: list[DerivedField],
        earlier: tuple[str, ...] = (),
    ) -> None:
        self.release = release
        self.based_on = info.based_on
        self.earlier = earlier  # the releases this one is based on, nearest first
        self.title = info.title
        self.date_format = info.date_format
        self.encoding = info.encoding
        self.fields = fields
        self.lists = lists
        self.derived = derived
        self._by_name = {f.name: f for f in fields}

    def __repr__(self) -> str:
        return f"<Spec {self.release}: {len(self.fields)} fields, {len(self.lists)} lists>"

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> FieldSpec:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"{self.release} has no field {name!r}") from None

    def has_field(self, name: str) -> bool:
        return name in self._by_name

    def headers(self, style: HeaderStyle = "label") -> list[str]:
        return [f.header(style) for f in self.fields]

    def list(self, name: str) -> DefinedList:
        return self.lists[name]

    def list_of(self, field: str) -> DefinedList | None:
        name = self.field(field).list_name
        return self.lists[name] if name else None

    def values(self, field: str) -> list[str]:
        """Valid texts of the field's defined list in this release ([] if the field has none)."""
        dl = self.list_of(field)
        return [v.text(self.release) for v in dl.in_release(self.release)] if dl else []  # type: ignore[misc]

    def value(self, field: str, key: str) -> str:
        dl = self.list_of(field)
        if dl is None:
            raise KeyError(f"{field} has no defined list")
        for v in dl.values:
            if v.key == key:
                text = v.text(self.release)
                if text is None:
                    raise KeyError(f"{field} value {key} does not exist in {self.release}")
                return text
        raise KeyError(f"{field} has no value key {key!r}")

    def key(self, field: str, text: str) -> str | None:
        dl = self.list_of(field)
        if dl is None:
            return None
        for v in dl.values:
            if v.text(self.release) == text:
                return v.key
        return None

    def r1_values_only(self, field: str) -> list[str]:
        """Texts of the earlier releases (the ``based_on`` chain) that are not valid in this
        release: validity -7 ('Release 1')."""
        dl = self.list_of(field)
        if dl is None or not self.earlier:
            return []
        valid = set(self.values(field))
        out: list[str] = []
        for rel in reversed(self.earlier):
            for v in dl.values:
                t = v.text(rel)
                if t is not None and t not in valid and t not in out:
                    out.append(t)
        return out

    def text_map(self, field: str, older: str) -> dict[str, str | None]:
        """``older`` release text -> this release's text for the field's list: the same key,
        or where a release between them drops the value, its ``<release>_maps_to`` key, step
        by step along the ``based_on`` chain; None where this release has no equivalent."""
        dl = self.list_of(field)
        if dl is None:
            return {}
        chain = [*reversed(self.earlier), self.release]
        steps = chain[chain.index(older) + 1:] if older in chain else [self.release]
        by_key = {v.key: v for v in dl.values}
        out: dict[str, str | None] = {}
        for v in dl.values:
            old = v.text(older)
            if old is None:
                continue
            cur: ListValue | None = v
            for rel in steps:
                if cur is not None and cur.text(rel) is None:
                    target = cur.maps_to_in(rel)
                    cur = by_key[target] if target else None
            out[old] = cur.text(self.release) if cur is not None else None
        return out

    def translation_from(self, older: Spec) -> dict[str, dict[str, str | None]]:
        """Per list field of this release: ``older``'s text -> this release's text (this
        release's own texts map to themselves; None = no equivalent here)."""
        out: dict[str, dict[str, str | None]] = {}
        for f in self.fields:
            if not f.list_name or not self.values(f.name):
                continue
            conv = self.text_map(f.name, older.release) if older.release != self.release else {}
            for v in self.values(f.name):
                conv.setdefault(v, v)
            out[f.name] = conv
        return out

    def translate_from(self, older: Spec, *, keep_unknown: bool = False) -> dict[str, Any]:
        """Per list field of this release, a polars expression turning the column's ``older``
        texts into this release's (``{field: pl.Expr}``, each aliased to its field): a text
        with no equivalent, or not in either list, becomes null, or with ``keep_unknown``
        stays as it was."""
        import polars as pl

        out: dict[str, Any] = {}
        for name, conv in self.translation_from(older).items():
            if keep_unknown:
                m = {k: v for k, v in conv.items() if v is not None and k != v}
                out[name] = (pl.col(name).replace(m) if m else pl.col(name)).alias(name)
            else:
                out[name] = pl.col(name).replace_strict(
                    list(conv), list(conv.values()), default=None, return_dtype=pl.String
                ).alias(name)
        return out

    def r1_to_r2(self, field: str) -> dict[str, str | None]:
        """The release this one is based on: its text -> this release's text ({} for the
        first release)."""
        return self.text_map(field, self.based_on) if self.based_on else {}

    # -- conditions -------------------------------------------------------------------------
    def fields_applying(self, *, field: str, keys: list[str]) -> list[str]:
        """The fields (file order) whose ``applies`` condition requires ``field`` to hold one
        of exactly ``keys``: a ``{field: .., in: keys}`` test that is the condition itself or
        one of its top-level ``all:`` parts (``fields_applying(field="Event_Type",
        keys=["SERVICE"])`` gives the service fields)."""
        wanted = set(keys)

        def requires(cond: Any) -> bool:
            if not isinstance(cond, dict):
                return False
            if "all" in cond:
                return any(requires(part) for part in cond["all"])
            return cond.get("field") == field and set(cond.get("in") or ()) == wanted

        return [f.name for f in self.fields if requires(f.applies)]

    def fields_not_applying(self, *, field: str, keys: list[str]) -> list[str]:
        """The fields (file order) whose ``applies`` condition is exactly ``{not: {field: ..,
        in: keys}}``: they apply on every row but those (``fields_not_applying(field=
        "Client_Type", keys=["CARER_KNOWN_BY_ASSOCIATION"])`` gives the event fields). A field
        whose condition only has that test among other ``all:`` parts is not one of them."""
        wanted = set(keys)

        def excludes(cond: Any) -> bool:
            if not isinstance(cond, dict) or set(cond) != {"not"}:
                return False
            inner = cond["not"]
            return (isinstance(inner, dict) and set(inner) == {"field", "in"}
                    and inner["field"] == field and set(inner["in"] or ()) == wanted)

        return [f.name for f in self.fields if excludes(f.applies)]

    def _texts_of_keys(self, field: str, keys: list[str]) -> list[str]:
        dl = self.list_of(field)
        assert dl is not None
        wanted = set(keys)
        return [t for v in dl.values if v.key in wanted for t in v.texts.values()]

    def _all_texts(self, field: str) -> list[str]:
        dl = self.list_of(field)
        return [t for v in dl.values for t in v.texts.values()] if dl else []

    def _keys_with_prefix(self, field: str, prefix: str) -> list[str]:
        dl = self.list_of(field)
        return [v.key for v in dl.values if v.key.startswith(prefix)] if dl else []

    def condition_expr(self, cond: cond_mod.Condition, atoms=None):  # -> pl.Expr
        """A validated condition as a polars Boolean expression (null = undetermined);
        ``atoms``: leaf tests already computed (see ``conditions.compile_condition``)."""
        return cond_mod.compile_condition(
            cond,
            texts_of_keys=self._texts_of_keys,
            all_texts=self._all_texts,
            keys_with_prefix=self._keys_with_prefix,
            date_format=self.date_format,
            atoms=atoms,
        )

    def describe(self, cond: cond_mod.Condition) -> str:
        def text(field: str, key: str) -> str:
            try:
                return self.value(field, key)
            except KeyError:
                return key

        return cond_mod.describe(cond, text)


# -- loading ----------------------------------------------------------------------------------
# libyaml's parser (PyYAML's C extension) builds the same objects as yaml.safe_load about ten
# times faster; the spec, catalogue and thresholds are read at the start of every command.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` with the compiled loader when PyYAML has one."""
    return yaml.load(text, Loader=_YAML_LOADER)


def _read_yaml(path: Path) -> Any:
    """A spec file's YAML; every problem is a one-line SpecError naming the file."""
    if not path.exists():
        raise SpecError(f"{path}: spec file missing")
    try:
        return load_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        what = getattr(exc, "problem", None) or " ".join(str(exc).split())
        raise SpecError(f"{path}: not valid YAML{where}: {what}") from None
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise SpecError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _pydantic_msg(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
    )


def _load_lists(path: Path, releases: tuple[str, ...]) -> dict[str, DefinedList]:
    raw = _read_yaml(path)
    if not isinstance(raw, dict) or not raw:
        raise SpecError(f"{path}: expected a mapping of list name -> list")
    lists: dict[str, DefinedList] = {}
    for name, body in raw.items():
        where = f"{path}: list {name!r}"
        try:
            dl = DefinedList.model_validate({"name": name, **(body or {})})
        except (ValidationError, TypeError) as exc:
            msg = _pydantic_msg(exc) if isinstance(exc, ValidationError) else str(exc)
            raise SpecError(f"{where}: {msg}") from None
        if not dl.values:
            raise SpecError(f"{where}: has no values")
        keys: set[str] = set()
        for v in dl.values:
            if not _KEY.match(v.key):
                raise SpecError(f"{where}: value key {v.key!r} must be UPPER_SNAKE_CASE")
            if v.key in keys:
                raise SpecError(f"{where}: value key {v.key!r} repeats")
            keys.add(v.key)
            unknown = sorted((set(v.texts) | set(v.maps_to)) - set(releases))
            if unknown:
                raise SpecError(
                    f"{where}: value {v.key!r} has a text for {unknown[0]!r}, which is not a "
                    f"release named in releases.yaml ({', '.join(releases)})"
                )
            if not v.texts:
                raise SpecError(f"{where}: value {v.key!r} has no text for any release")
        for rel in dl.uncertain:
            if rel not in releases:
                raise SpecError(f"{where}: uncertain names unknown release {rel!r}")
        for release in releases:
            seen: set[str] = set()
            for v in dl.values:
                t = v.text(release)
                if t is None:
                    continue
                if t in seen:
                    raise SpecError(f"{where}: {release} value {t!r} repeats")
                seen.add(t)
        by_key = {v.key: v for v in dl.values}
        for v in dl.values:
            for release, key in v.maps_to.items():
                target = by_key.get(key)
                if target is None or target.text(release) is None:
                    raise SpecError(
                        f"{where}: value {v.key!r} {release}{_MAPS_TO} {key!r}, "
                        f"which is not a value with an {release} text in this list"
                    )
                if v.text(release) is not None:
                    raise SpecError(
                        f"{where}: value {v.key!r} has both {release} and {release}{_MAPS_TO}"
                    )
        lists[name] = dl
    return lists


def _load_fields(path: Path) -> tuple[list[FieldSpec], list[DerivedField]]:
    raw = _read_yaml(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("fields"), list):
        raise SpecError(f"{path}: expected a top-level 'fields:' list")
    fields: list[FieldSpec] = []
    names: set[str] = set()
    for i, body in enumerate(raw["fields"]):
        name = body.get("name", f"#{i + 1}") if isinstance(body, dict) else f"#{i + 1}"
        try:
            f = FieldSpec.model_validate(body)
        except ValidationError as exc:
            raise SpecError(f"{path}: field {name!r}: {_pydantic_msg(exc)}") from None
        if f.name in names:
            raise SpecError(f"{path}: field {f.name!r} repeats")
        names.add(f.name)
        fields.append(f)
    derived = [DerivedField.model_validate(d) for d in raw.get("derived") or []]
    return fields, derived


def _apply_release(
    fields: list[FieldSpec], info: ReleaseInfo, path: Path, release: str
) -> list[FieldSpec]:
    where = f"{path}: release {release}"
    names = {f.name for f in fields}
    for name in info.remove_fields:
        if name not in names:
            raise SpecError(f"{where}: remove_fields names unknown field {name!r}")
    out = [f for f in fields if f.name not in set(info.remove_fields)]
    for name, changes in info.change_fields.items():
        idx = next((i for i, f in enumerate(out) if f.name == name), None)
        if idx is None:
            raise SpecError(f"{where}: change_fields names unknown field {name!r}")
        try:
            out[idx] = FieldSpec.model_validate(
                {**out[idx].model_dump(by_alias=True), **changes}
            )
        except ValidationError as exc:
            raise SpecError(f"{where}: field {name!r}: {_pydantic_msg(exc)}") from None
    for body in info.add_fields:
        try:
            out.append(FieldSpec.model_validate(body))
        except ValidationError as exc:
            raise SpecError(f"{where}: add_fields: {_pydantic_msg(exc)}") from None
    return out


def _check_fields(
    fields: list[FieldSpec], lists: dict[str, DefinedList], path: Path, release: str
) -> None:
    by_name = {f.name: f for f in fields}
    for f in fields:
        where = f"{path}: field {f.name!r} ({release})"
        if f.type == "list" and not f.list_name:
            raise SpecError(f"{where}: type list needs a 'list:'")
        if f.list_name and f.list_name not in lists:
            raise SpecError(f"{where}: names unknown list {f.list_name!r} (not in lists.yaml)")
        if f.list_name and not lists[f.list_name].in_release(release):
            raise SpecError(f"{where}: list {f.list_name!r} has no values in {release}")

    def keys_of(name: str) -> set[str] | None:
        ln = by_name[name].list_name
        return {v.key for v in lists[ln].values} if ln else None

    for f in fields:
        for which in ("applies", "mandatory"):
            try:
                cond_mod.validate(getattr(f, which), fields=by_name, keys_of=keys_of)
            except cond_mod.ConditionError as exc:
                raise SpecError(f"{path}: field {f.name!r} {which} ({release}): {exc}") from None


def _quarter(text: str) -> tuple[int, int] | None:
    m = _QUARTER.match(str(text).strip())
    if not m or (int(m.group(1)) + 1) % 100 != int(m.group(2)):
        return None
    return int(m.group(1)), int(m.group(3))


@cache
def _release_infos(data_dir: Path) -> dict[str, ReleaseInfo]:
    """``releases.yaml`` validated, ordered by ``from_quarter`` (oldest first)."""
    rel_path = data_dir / "releases.yaml"
    raw_rel = _read_yaml(rel_path)
    if not isinstance(raw_rel, dict) or not raw_rel:
        raise SpecError(f"{rel_path}: expected a mapping of release -> settings")
    infos: dict[str, ReleaseInfo] = {}
    starts: dict[tuple[int, int], str] = {}
    for name, body in raw_rel.items():
        if not isinstance(name, str) or not re.match(r"^[A-Za-z][A-Za-z0-9]*$", name):
            raise SpecError(f"{rel_path}: release name {name!r} must be letters and digits")
        try:
            info = ReleaseInfo.model_validate(body)
        except ValidationError as exc:
            raise SpecError(f"{rel_path}: release {name!r}: {_pydantic_msg(exc)}") from None
        q = _quarter(info.from_quarter)
        if q is None:
            raise SpecError(
                f"{rel_path}: release {name!r}: from_quarter {info.from_quarter!r} is not a "
                "quarter of the form YYYY-YYQn, e.g. 2025-26Q2"
            )
        if q in starts:
            raise SpecError(
                f"{rel_path}: release {name!r}: from_quarter {info.from_quarter} is also "
                f"{starts[q]!r}'s"
            )
        starts[q] = name
        infos[name] = info
    order = sorted(infos, key=lambda n: _quarter(infos[n].from_quarter))  # type: ignore[arg-type, return-value]
    return {n: infos[n] for n in order}


def release_names(data_dir: Path | str | None = None) -> tuple[str, ...]:
    """The releases named in ``releases.yaml``, oldest first (by ``from_quarter``)."""
    return tuple(_release_infos(Path(data_dir).resolve() if data_dir else DATA_DIR))


def release_for(fy_start: int, quarter: int, data_dir: Path | str | None = None) -> str:
    """The release a reporting quarter is submitted under: the latest whose ``from_quarter``
    is that quarter or earlier (the first release for any quarter before them all)."""
    infos = _release_infos(Path(data_dir).resolve() if data_dir else DATA_DIR)
    names = list(infos)
    chosen = names[0]
    for n in names:
        if _quarter(infos[n].from_quarter) <= (fy_start, quarter):  # type: ignore[operator]
            chosen = n
    return chosen


def load_spec(release: str, data_dir: Path | str | None = None) -> Spec:
    """The spec of a release named in ``releases.yaml`` (e.g. ``"R2"``), validated. Cached per
    (release, dir)."""
    release = release.upper()
    return _load_spec(release, Path(data_dir).resolve() if data_dir else DATA_DIR)


@cache
def _load_spec(release: str, data_dir: Path) -> Spec:
    rel_path = data_dir / "releases.yaml"
    infos = _release_infos(data_dir)
    if release not in infos:
        raise SpecError(f"{rel_path}: unknown release {release!r} (known: {', '.join(infos)})")
    lists = _load_lists(data_dir / "lists.yaml", tuple(infos))
    fields_path = data_dir / "fields.yaml"
    fields, derived = _load_fields(fields_path)
    chain = []
    r: str | None = release
    while r is not None:
        if r in chain:
            raise SpecError(f"{rel_path}: release {r!r}: based_on loops")
        if r not in infos:
            raise SpecError(f"{rel_path}: based_on names unknown release {r!r}")
        chain.append(r)
        r = infos[r].based_on
    for name in reversed(chain[:-1]):
        fields = _apply_release(fields, infos[name], rel_path, name)
    _check_fields(fields, lists, fields_path, release)
    return Spec(release, infos[release], fields, lists, derived, tuple(chain[1:]))


# RELEASES and LATEST_RELEASE are read from releases.yaml on first use (PEP 562), not when the
# package is imported: a broken spec folder is then a SpecError where it is used (one line from
# `cld`), not a traceback out of every `import cld_schema`.
if TYPE_CHECKING:
    RELEASES: tuple[str, ...]
    LATEST_RELEASE: str


def __getattr__(name: str) -> Any:
    if name == "RELEASES":
        return release_names()
    if name == "LATEST_RELEASE":
        return release_names()[-1]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
