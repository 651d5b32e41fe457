"""Walk the Containers tree (project → service → container) as a view would, through any model
over it (the tree model)."""

from __future__ import annotations

from collections.abc import Iterator

from PySide6.QtCore import QModelIndex

from desktop.ui.containers.container_model import KindRole


def container_indexes(model, parent: QModelIndex = QModelIndex(), project: str | None = None
                      ) -> Iterator[tuple[QModelIndex, str | None]]:
    """(column-0 index, project name or None) of every container row, at any depth."""
    for r in range(model.rowCount(parent)):
        idx = model.index(r, 0, parent)
        kind = idx.data(KindRole)
        if kind == "container":
            yield idx, project
        elif kind == "project":
            yield from container_indexes(model, idx, idx.data())
        elif kind == "service":
            yield from container_indexes(model, idx, project)


def child_names(model, parent: QModelIndex) -> list[str]:
    return [model.index(r, 0, parent).data() for r in range(model.rowCount(parent))]
