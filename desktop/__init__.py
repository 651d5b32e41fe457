"""Pilothouse: a desktop manager for container engines."""

__version__ = "0.1.0"
