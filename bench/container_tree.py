"""The Containers table's tree (project → service → replica) at 20,000 rows, without Qt: what one
engine change costs. Qt-free and engine-free on purpose: it measures the structure the model asks
on every event (records shaped as the engine's list gives them).

Figures, each against a baseline measured in the same run:
- one replica added and removed in a 20,000-row tree, median µs, vs the same at 2,000 rows (a
  project per 100 rows, five services each, so only the row count changes). Target ≤ 3× for 10×
  the rows: a per-row pass would be ~10×, while dicts and lists 10× larger cost up to ~2× in
  memory traffic alone (the two-level tree before services measured ~2× here too);
- the same change vs the floor of any sorted structure: `bisect.insort` and `del` on a plain
  sorted list of 20,000 keys (target ≤ 25×: the tree also finds the project and service, builds
  the keys and announces the rows);
- finding a replica's row (what every repaint and selection asks) vs `bisect_left` on that list.
"""

from __future__ import annotations

import bisect
import dataclasses
import statistics
import time

from common import figure  # noqa: F401 - also puts the repository on sys.path

from desktop.engine.records import COMPOSE_NUMBER, COMPOSE_PROJECT, COMPOSE_SERVICE, Container
from desktop.presentation.container_tree import ContainerTree

SERVICES = 5  # per project; a project per 100 rows (200 at 20,000), so each level keeps its shape as n grows


def record(i: int, n: int) -> Container:
    labels = {}
    projects = n // 100
    if i % 3 == 0:  # a third of the rows are Compose replicas
        labels = {COMPOSE_PROJECT: f"proj{i % projects:03d}", COMPOSE_SERVICE: f"svc{(i // projects) % SERVICES}",
                  COMPOSE_NUMBER: str(i // (projects * SERVICES) + 1)}
    return Container(id=f"{i:064x}", name=f"app-{(i * 7919) % n:05d}", image=f"img{i % 13}:1", image_id="sha256:x",
                     command="sleep", created=1.7e9 + (i * 31) % 997, state=("running", "exited")[i % 2], status="",
                     labels=labels, engine_id="e")


def change_cost(n: int, rounds: int = 2000) -> tuple[float, float]:
    """(median µs of one replica added then removed, median µs of finding a replica's row)."""
    rows = [record(i, n) for i in range(n)]
    store = {c.id: c for c in rows}
    tree = ContainerTree(store.get)
    tree.rebuild(rows)
    projects = n // 100
    extra = [dataclasses.replace(record(n + i, n), labels={
        COMPOSE_PROJECT: f"proj{i % projects:03d}", COMPOSE_SERVICE: f"svc{i % SERVICES}",
        COMPOSE_NUMBER: str(900 + i)}) for i in range(rounds)]
    change, find = [], []
    replicas = [c.id for c in rows if c.compose_project][:rounds]
    for c, probe in zip(extra, replicas):
        store[c.id] = c
        t = time.perf_counter()
        tree.insert(c)
        tree.remove([c.id])
        change.append(time.perf_counter() - t)
        del store[c.id]
        t = time.perf_counter()
        tree.row_of(probe)
        find.append(time.perf_counter() - t)
    return statistics.median(change) * 1e6, statistics.median(find) * 1e6


def floor_cost(n: int, rounds: int = 2000) -> tuple[float, float]:
    keys = sorted(f"app-{(i * 7919) % n:05d}" for i in range(n))
    change, find = [], []
    for i in range(rounds):
        k = f"app-{(i * 104729) % n:05d}x"
        t = time.perf_counter()
        bisect.insort(keys, k)
        del keys[bisect.bisect_left(keys, k)]
        change.append(time.perf_counter() - t)
        t = time.perf_counter()
        bisect.bisect_left(keys, keys[i % n])
        find.append(time.perf_counter() - t)
    return statistics.median(change) * 1e6, statistics.median(find) * 1e6


def main() -> None:
    small, _ = change_cost(2000)
    big, big_find = change_cost(20000)
    floor, floor_find = floor_cost(20000)
    print(f"# one replica in and out: {small:.1f} µs at 2,000 rows, {big:.1f} µs at 20,000; "
          f"sorted-list floor {floor:.1f} µs", flush=True)
    figure("container_tree.change_20k_vs_2k", big, small, "<=3")
    figure("container_tree.change_vs_sorted_list", big, floor, "<=25")
    figure("container_tree.find_row_vs_bisect", big_find, floor_find, "<=25")


if __name__ == "__main__":
    main()
