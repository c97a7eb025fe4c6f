"""Prefect flows wiring the pipeline stages; no business logic lives here.

Importing this package first sets Prefect's local, quiet defaults (``flows.settings``), so it
must happen before ``import prefect`` for the settings to take effect.
"""

from flows.settings import configure_prefect

configure_prefect()
