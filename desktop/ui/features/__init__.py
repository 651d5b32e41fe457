"""Feature wings: one class per feature that builds its pages, owns its stores and tasks, and
follows the engine switcher through the small protocol in wing.py."""
