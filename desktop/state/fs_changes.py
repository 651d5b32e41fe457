"""What a container changed on disk, as a tree: each changed path (added, changed, deleted) with
its size, every folder with the counts and total size of what changed below it. Qt-free."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

KINDS = ("added", "changed", "deleted")
# The Engine API's diff kinds
API_KINDS = {0: "changed", 1: "added", 2: "deleted"}


@dataclass
class ChangeNode:
    name: str
    path: str
    kind: str | None = None  # None: a folder shown only because something below it changed
    size: int | None = None  # a file's own size (None: not known, or deleted)
    is_dir: bool = False
    children: dict[str, "ChangeNode"] = field(default_factory=dict)
    parent: "ChangeNode | None" = None
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))  # changes below it
    total_size: int = 0  # sizes known of itself and below

    def ancestors(self) -> Iterable["ChangeNode"]:
        n = self.parent
        while n is not None:
            yield n
            n = n.parent


class ChangeTree:
    """Built from the Engine API's diff: [{"Path": "/etc/x", "Kind": 0|1|2}, ...]."""

    def __init__(self, diff: Iterable[dict]) -> None:
        self.root = ChangeNode("/", "/", is_dir=True)
        self.nodes: dict[str, ChangeNode] = {"/": self.root}
        for entry in diff:
            path = "/" + str(entry.get("Path", "")).strip("/")
            kind = API_KINDS.get(entry.get("Kind"))
            if kind is None or path == "/":
                continue
            node = self._node(path)
            node.kind = kind
            for a in node.ancestors():
                a.counts[kind] += 1
        # a path something else changed below is a folder
        for node in self.nodes.values():
            if node.children:
                node.is_dir = True

    def _node(self, path: str) -> ChangeNode:
        node = self.nodes.get(path)
        if node is not None:
            return node
        parent_path, _, name = path.rpartition("/")
        parent = self._node(parent_path or "/")
        node = ChangeNode(name, path, parent=parent)
        parent.children[name] = node
        self.nodes[path] = node
        return node

    @property
    def counts(self) -> dict[str, int]:
        return self.root.counts

    def changed(self) -> list[ChangeNode]:
        """Every path the diff names, in path order."""
        return sorted((n for n in self.nodes.values() if n.kind is not None), key=lambda n: n.path)

    def sizable(self) -> list[str]:
        """Paths whose size can be asked (they exist, and are not folders)."""
        return [n.path for n in self.changed() if n.kind != "deleted" and not n.is_dir]

    def set_size(self, path: str, size: int, is_dir: bool = False) -> list[ChangeNode]:
        """Record a path's size; returns the nodes whose shown figures changed (it and its folders)."""
        node = self.nodes.get(path)
        if node is None:
            return []
        node.is_dir = node.is_dir or is_dir
        if node.is_dir:
            return [node]
        delta = size - (node.size or 0)
        node.size = size
        node.total_size += delta
        touched = [node]
        for a in node.ancestors():
            a.total_size += delta
            touched.append(a)
        return touched

    def visible(self, text: str = "", kinds: Iterable[str] = KINDS) -> set[str]:
        """Paths to show for a filter: matching changes (path contains `text`, any case, and kind in
        `kinds`) and the folders above them."""
        needle = text.strip().lower()
        kinds = set(kinds)
        out: set[str] = set()
        for n in self.nodes.values():
            if n.kind in kinds and needle in n.path.lower():
                out.add(n.path)
                for a in n.ancestors():
                    if a.path in out:
                        break
                    out.add(a.path)
        return out

