"""Nothing in the pipeline imports the synthetic sample council (issue 17, d5).

The sample (``pipelines/sample/``) is a test bed: it imports the source contract
(``pipelines.source.tables``) to create its database, never the other way round. Only the
commands that exist to run it (``cld sample`` and the quickstart) may import it. The walk is
the import-cycle test's (``ast``, function-local imports included).
"""

from __future__ import annotations

from pathlib import Path

from tests.test_import_cycles import import_graph, project_modules

# The CLI modules whose job is to run the sample.
ALLOWED = {"pipelines.cli.sample", "pipelines.cli.quickstart"}


def sample_importers(root: Path | None = None) -> list[str]:
    mods = project_modules(root) if root is not None else project_modules()
    graph = import_graph(mods)
    return sorted(
        name
        for name, deps in graph.items()
        if name.startswith("pipelines.")
        and not (name == "pipelines.sample" or name.startswith("pipelines.sample."))
        and name not in ALLOWED
        and any(d == "pipelines.sample" or d.startswith("pipelines.sample.") for d in deps)
    )


def test_the_walk_finds_a_function_local_import_of_the_sample(tmp_path: Path) -> None:
    from tests.test_import_cycles import PACKAGES

    pkg = tmp_path / "pipelines"
    (pkg / "sample").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sample" / "__init__.py").write_text("")
    (pkg / "sample" / "schema.py").write_text("from pipelines import extract\n")
    (pkg / "extract.py").write_text("def f():\n    from pipelines.sample.schema import x\n")
    for other in PACKAGES[1:]:
        (tmp_path / other).mkdir()
    assert sample_importers(tmp_path) == ["pipelines.extract"]


def test_nothing_outside_the_sample_imports_it() -> None:
    found = sample_importers()
    assert not found, "these modules import pipelines.sample: " + ", ".join(found)
