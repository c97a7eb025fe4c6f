"""Prefect flows wiring the pipeline stages; no business logic lives here."""
