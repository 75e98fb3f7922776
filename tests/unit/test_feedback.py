"""Ratings teach the recommender, within bounds, and the user owns them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from model_files import SD15_LORA, write_safetensors

from services.library.scan import folders_under, scan
from services.recommend.analysis import analyze_keywords
from services.recommend.feedback import MAX_LEAN, ONE_RATING, FeedbackError, FeedbackStore
from services.recommend.pipeline import recommend


def record(generation_id: str, loras: list[str], concepts: list[str], checkpoint: str = "realVision_v5.safetensors",
           style: str = "realistic") -> dict[str, object]:
    return {"generation_id": generation_id, "checkpoint": {"name": checkpoint},
            "loras": [{"name": n, "weight": 0.8} for n in loras],
            "analysis": {"style": style, "concepts": concepts}, "settings": {"seed": 1}}


@pytest.fixture
def two_neon_loras(models_root: Path) -> Path:
    for name in ("neonCityA", "neonCityB"):
        write_safetensors(models_root / "loras" / f"{name}.safetensors", SD15_LORA)
        (models_root / "loras" / f"{name}.civitai.info").write_text(json.dumps(
            {"baseModel": "SD 1.5", "trainedWords": ["cyberpunk"], "model": {"name": name, "tags": ["cyberpunk"]}}))
    return models_root


def test_rating_down_changes_the_next_choice_and_deleting_restores_it(two_neon_loras: Path, tmp_path: Path) -> None:
    library = scan(folders_under(two_neon_loras))
    store = FeedbackStore(tmp_path / "cache")
    prompt = analyze_keywords("cyberpunk street at night, photo")

    def chosen() -> tuple[list[str], str]:
        rec = recommend(library, prompt, leans=store.leans(prompt.concepts, prompt.style))
        return [p.name for p in rec.plan.loras], rec.explain()

    before, _ = chosen()
    assert "neonCityA.safetensors" in before
    store.rate(record("g1", ["neonCityA.safetensors"], ["cyberpunk", "street", "night"]), rating=1,
               comment="too much neon")
    after, explanation = chosen()
    assert "neonCityB.safetensors" in after and "neonCityA.safetensors" not in after
    assert "rated down for similar prompts" in explanation
    unrelated = analyze_keywords("watercolor painting of a harbour")
    assert store.leans(unrelated.concepts, unrelated.style) == {}  # dissimilar prompts are not touched
    assert store.delete("g1") == 1
    assert chosen()[0] == before


def test_effect_is_bounded(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path)
    concepts = ["cyberpunk", "street"]
    store.rate(record("one", ["x.safetensors"], concepts), 5)
    single = store.leans(concepts)[("loras", "x.safetensors")].value
    assert 0 < single <= ONE_RATING
    for i in range(50):
        store.rate(record(f"g{i}", ["x.safetensors"], concepts), 5)
    assert store.leans(concepts)[("loras", "x.safetensors")].value <= MAX_LEAN
    store.rate(record("neutral", ["y.safetensors"], concepts), 3)
    assert ("loras", "y.safetensors") not in store.leans(concepts)


def test_export_delete_and_bad_input(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path)
    store.rate(record("a", ["x.safetensors"], ["cat"]), 4, "nice")
    store.rate(record("a", ["x.safetensors"], ["cat"]), 2, "on second look, no")  # re-rating replaces
    (only,) = store.export()
    assert (only["generation_id"], only["rating"], only["comment"]) == ("a", 2, "on second look, no")
    assert only["loras"] == [{"name": "x.safetensors", "weight": 0.8}]
    with pytest.raises(FeedbackError, match="1 to 5"):
        store.rate(record("b", [], ["cat"]), 9)
    with pytest.raises(FeedbackError, match="generation id"):
        store.rate({"loras": []}, 3)
    assert store.delete() == 1 and store.export() == []
