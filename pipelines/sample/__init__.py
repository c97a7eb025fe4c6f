"""The synthetic sample council: a Mosaic-like case-management database, provider feeds, an
NHS-number matching feedback sample and a manifest of injected defects (docs/sample.md)."""

from pipelines.sample.generator import (
    DEFAULT_REFERENCE,
    SampleError,
    SampleInfo,
    generate,
    small_council,
)

__all__ = ["DEFAULT_REFERENCE", "SampleError", "SampleInfo", "generate", "small_council"]
