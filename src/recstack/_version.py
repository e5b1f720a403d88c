"""The library version, kept in one place (read by packaging and by artifacts)."""

__version__ = "0.1.0"
