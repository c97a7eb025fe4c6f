"""The CLD specification as data, keyed by release (loader lands with issue 2)."""
