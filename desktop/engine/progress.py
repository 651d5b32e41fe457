"""Pure folding of the engine's progress JSON into what a progress UI shows.

LayerProgress: pull/push messages → per-layer status and an overall fraction.
BuildProgress: build messages → log lines, current step "Step 3/7" and the failing step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# How far along a layer is when the engine says only a word (downloading counts for the first
# half of a pull, extracting for the second).
_DONE_WORDS = {"pull complete": 1.0, "already exists": 1.0, "pushed": 1.0, "layer already exists": 1.0,
               "mounted from": 1.0, "download complete": 0.5, "verifying checksum": 0.5}
_HALF = {"downloading": (0.0, 0.5), "extracting": (0.5, 0.5), "pushing": (0.0, 1.0)}


@dataclass
class Layer:
    id: str
    status: str = ""
    current: int = 0
    total: int = 0
    fraction: float = 0.0


@dataclass
class LayerProgress:
    layers: dict[str, Layer] = field(default_factory=dict)
    status: str = ""  # the last message without a layer id ("Digest: ...", "Status: ...")
    digest: str = ""
    error: str = ""
    updates: int = 0

    def feed(self, item: dict[str, Any]) -> None:
        """Fold one progress message in."""
        self.updates += 1
        if item.get("error"):
            self.error = str(item["error"])
            return
        status = str(item.get("status") or "")
        lid = item.get("id")
        if "aux" in item and isinstance(item["aux"], dict) and item["aux"].get("Digest"):
            self.digest = item["aux"]["Digest"]
        if not lid or lid in ("latest",) or status.lower().startswith(("pulling from", "the push refers")):
            if status:
                self.status = status
                if status.startswith("Digest: "):
                    self.digest = status[len("Digest: "):]
            return
        layer = self.layers.get(lid)
        if layer is None:
            layer = self.layers[lid] = Layer(lid)
        layer.status = status
        low = status.lower()
        detail = item.get("progressDetail") or {}
        for word, frac in _DONE_WORDS.items():
            if low.startswith(word):
                layer.fraction = max(layer.fraction, frac)
                return
        for word, (base, span) in _HALF.items():
            if low.startswith(word):
                cur, tot = int(detail.get("current") or 0), int(detail.get("total") or 0)
                if tot > 0:
                    layer.current, layer.total = cur, tot
                    layer.fraction = max(layer.fraction, base + span * min(cur / tot, 1.0))
                else:
                    layer.fraction = max(layer.fraction, base)
                return

    @property
    def fraction(self) -> float:
        """Overall progress 0..1: each layer weighs the same (sizes are unknown until it starts)."""
        if not self.layers:
            return 0.0
        return sum(layer.fraction for layer in self.layers.values()) / len(self.layers)


_STEP_RE = re.compile(r"^Step (\d+)/(\d+) : (.*)$")


@dataclass
class BuildProgress:
    lines: list[str] = field(default_factory=list)
    step: int = 0
    steps: int = 0
    step_text: str = ""
    image_id: str = ""
    error: str = ""
    failed_step: str = ""  # "Step 2/3 : RUN false" when the build failed there

    def feed(self, item: dict[str, Any]) -> list[str]:
        """Fold one build message in; returns the new log lines."""
        if item.get("error") or item.get("errorDetail"):
            self.error = str(item.get("error") or item["errorDetail"].get("message", ""))
            if self.step:
                self.failed_step = f"Step {self.step}/{self.steps} : {self.step_text}"
            self.lines.append(self.error)
            return [self.error]
        aux = item.get("aux")
        if isinstance(aux, dict) and aux.get("ID"):
            self.image_id = aux["ID"]
        text = item.get("stream")
        if not text:
            return []
        new = [ln for ln in text.splitlines() if ln.strip()]
        for ln in new:
            m = _STEP_RE.match(ln)
            if m:
                self.step, self.steps, self.step_text = int(m.group(1)), int(m.group(2)), m.group(3)
            if ln.startswith("Successfully built ") and not self.image_id:
                self.image_id = ln.split()[-1]
        self.lines.extend(new)
        return new

    @property
    def fraction(self) -> float:
        return self.step / self.steps if self.steps else 0.0
