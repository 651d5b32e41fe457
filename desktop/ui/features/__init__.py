"""Feature wings: each builds its pages, owns its stores and tasks, follows the engine switcher."""
