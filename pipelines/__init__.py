"""The stages of the CLD pipeline: sources, transform, submission writer, history, outputs."""

__version__ = "0.1.0"
