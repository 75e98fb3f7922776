"""Ratings of generations, and what they teach the recommender.

A rating (1 to 5 stars, optional comment) is keyed by the generation id our
record embeds in every saved image, and stored with what was chosen and why:
concepts, style, checkpoint, LoRAs with weights, parameters. Nothing leaves
the machine. Later recommendations for similar prompts lean towards choices
rated well and away from choices rated badly; the lean is bounded, so no single
rating dominates, and it disappears when the rating is deleted.
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

# One rating moves a choice by at most this much of its score; all ratings together by at most MAX_LEAN.
ONE_RATING = 0.3
MAX_LEAN = 0.6
MIN_SIMILARITY = 0.2


class FeedbackError(ValueError):
    pass


@dataclass(frozen=True)
class Lean:
    """How ratings of similar past prompts lean on one model (-MAX_LEAN .. +MAX_LEAN), and why."""

    value: float
    ratings: int

    def describe(self) -> str:
        direction = "up" if self.value > 0 else "down"
        return f"rated {direction} for similar prompts ({self.ratings} rating{'s' if self.ratings != 1 else ''})"


def record_from_image(path: str | Path) -> dict[str, Any] | None:
    """Our record embedded in a saved image (PNG, JPEG or WebP), or None."""
    from ..records.image_file import RECORD_KEY, read_metadata

    try:
        record = json.loads(read_metadata(path).get(RECORD_KEY, "null"))
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def similarity(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


class FeedbackStore:
    def __init__(self, cache_dir: str | Path) -> None:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        self.path = Path(cache_dir) / "feedback.sqlite"
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS ratings (generation_id TEXT PRIMARY KEY, rating INTEGER NOT NULL,"
                " comment TEXT, rated_utc TEXT, style TEXT, concepts TEXT, checkpoint TEXT, loras TEXT,"
                " settings TEXT)"
            )

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def rate(self, record: dict[str, Any], rating: int, comment: str = "") -> dict[str, Any]:
        """Store (or replace) the rating of the generation our record describes."""
        if not isinstance(rating, int) or not 1 <= rating <= 5:
            raise FeedbackError("A rating is 1 to 5 stars.")
        generation_id = record.get("generation_id")
        if not isinstance(generation_id, str) or not generation_id:
            raise FeedbackError("This image carries no generation id; only images saved by Save With Metadata "
                                "can be rated.")
        # The record comes from an image file: anyone may have written it. Only the shapes we use are kept.
        analysis = _mapping(record.get("analysis"))
        row = {
            "generation_id": generation_id[:200],
            "rating": rating,
            "comment": comment.strip()[:2000],
            "rated_utc": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "style": _text(analysis.get("style")),
            "concepts": [c for c in map(_text, _sequence(analysis.get("concepts"))) if c][:40],
            "checkpoint": _text(_mapping(record.get("checkpoint")).get("name")),
            "loras": [{"name": name, "weight": _number(lo.get("weight"))}
                      for lo in map(_mapping, _sequence(record.get("loras"))) if (name := _text(lo.get("name")))][:20],
            "settings": {k: v for k, v in _mapping(record.get("settings")).items()
                         if isinstance(k, str) and isinstance(v, (str, int, float, bool)) and len(str(v)) < 200},
        }
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO ratings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (row["generation_id"], rating, row["comment"], row["rated_utc"], row["style"],
                 json.dumps(row["concepts"]), row["checkpoint"], json.dumps(row["loras"]),
                 json.dumps(row["settings"])),
            )
        return row

    def version(self) -> str:
        """Changes whenever a rating is added, replaced or deleted (nodes re-run then)."""
        with self._connect() as db:
            count, latest = db.execute("SELECT count(*), max(rated_utc || generation_id) FROM ratings").fetchone()
        return f"{count}:{latest}"

    def export(self) -> list[dict[str, Any]]:
        with self._connect() as db:
            rows = db.execute("SELECT * FROM ratings ORDER BY rated_utc, generation_id").fetchall()
        names = ["generation_id", "rating", "comment", "rated_utc", "style", "concepts", "checkpoint", "loras",
                 "settings"]
        out = []
        for row in rows:
            item = dict(zip(names, row, strict=True))
            for key in ("concepts", "loras", "settings"):
                item[key] = json.loads(item[key] or "null")
            out.append(item)
        return out

    def delete(self, generation_id: str | None = None) -> int:
        """Delete one rating, or all of them when no id is given; returns how many went."""
        with self._connect() as db:
            if generation_id is None:
                return db.execute("DELETE FROM ratings").rowcount
            return db.execute("DELETE FROM ratings WHERE generation_id = ?", (generation_id,)).rowcount

    def leans(self, concepts: list[str], style: str | None = None) -> dict[tuple[str, str], Lean]:
        """(kind, model name) -> lean from ratings of similar prompts (kind: checkpoints or loras)."""
        wanted = {c.lower() for c in concepts}
        totals: dict[tuple[str, str], float] = {}
        counts: dict[tuple[str, str], int] = {}
        for item in self.export():
            sim = similarity(wanted, {str(c).lower() for c in _sequence(item["concepts"])})
            if style and item["style"] == style:
                sim = min(1.0, sim + 0.1)
            if sim < MIN_SIMILARITY:
                continue
            push = ONE_RATING * sim * (item["rating"] - 3) / 2  # 3 stars are neutral
            # Rows written before records were checked on the way in may hold anything: names must be text.
            keys = [("loras", name) for lo in map(_mapping, _sequence(item["loras"])) if (name := _text(lo.get("name")))]
            if _text(item["checkpoint"]):
                keys.append(("checkpoints", str(item["checkpoint"])))
            for key in keys:
                totals[key] = totals.get(key, 0.0) + push
                counts[key] = counts.get(key, 0) + 1
        # tanh keeps the sum of many ratings within +-MAX_LEAN while one rating stays nearly linear.
        return {k: Lean(MAX_LEAN * math.tanh(v / MAX_LEAN), counts[k]) for k, v in totals.items() if v}


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _sequence(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any, limit: int = 300) -> str | None:
    return value.strip()[:limit] or None if isinstance(value, str) else None


def _number(value: Any) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None
