"""Feature wings: each builds its pages, owns its stores and tasks, and follows the engine switcher."""
