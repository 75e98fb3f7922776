"""`<lora:name:weight>` tags, as A1111 writes LoRAs into a prompt: the one reader for every format.

A linear scan, never a backtracking pattern: texts come from strangers (an image's `parameters`, a
sidecar's example prompt, a typed prompt), and `re` holds the GIL, so one slow match freezes ComfyUI's
whole server (a tag followed by 5,000 digits took 27 s with the old patterns).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

_OPEN = re.compile(r"<lora:", re.IGNORECASE)  # a literal: linear
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)")  # one way to match each number: no backtracking
_MAX_WEIGHT_TEXT = 32  # a weight longer than this is no weight anyone wrote


@dataclass(frozen=True)
class LoraTag:
    start: int
    end: int  # one past the closing '>'
    name: str  # stripped; "" for a tag that names nothing
    weight: float | None  # None when the tag gives no number


def find_lora_tags(text: str) -> list[LoraTag]:
    """Every `<lora:...>` span in order; the weight is the number the second field starts with."""
    tags: list[LoraTag] = []
    pos = 0
    while (opened := _OPEN.search(text, pos)) is not None:
        body_start = opened.end()
        close = text.find(">", body_start)
        if close < 0:
            break  # no later tag can close either
        name, _, rest = text[body_start:close].partition(":")
        tags.append(LoraTag(opened.start(), close + 1, name.strip(), _weight(rest)))
        pos = close + 1
    return tags


def _weight(field: str) -> float | None:
    number = _NUMBER.match(field[:_MAX_WEIGHT_TEXT])
    if number is None:
        return None
    value = float(number.group())
    return value if math.isfinite(value) else None


def lora_tags(text: str) -> list[tuple[str, float]]:
    """(name, weight) of the tags that name a LoRA and give a weight, as A1111's parser reads them."""
    return [(t.name, t.weight) for t in find_lora_tags(text) if t.name and t.weight is not None]


def without_lora_tags(text: str) -> str:
    """The text with every tag and the blanks before it taken out (what A1111 encodes)."""
    pieces: list[str] = []
    pos = 0
    for tag in find_lora_tags(text):
        pieces.append(text[pos:tag.start].rstrip(" \t"))
        pos = tag.end
    pieces.append(text[pos:])
    return "".join(pieces)
