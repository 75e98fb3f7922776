"""Assisted and manual choices win over scores; a rating saved through the node steers the next run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def analysis_of(node_classes: dict[str, Any], prompt: str) -> dict[str, Any]:
    return node_classes["IntelligentPromptAnalyzer"].execute(prompt, "", use_ollama=False).args[0]


def test_exclude_and_manual_choices(node_classes: dict[str, Any], comfy_folders: Path) -> None:
    select, loras = node_classes["IntelligentAutoModelSelect"], node_classes["IntelligentLoRARecommender"]
    analysis = analysis_of(node_classes, "photo of a cat with cat ears")
    auto = select.execute(analysis, "auto").args
    assert auto[3]["checkpoint"] == "tiny_photoreal_v1.safetensors"
    assisted = select.execute(analysis, "auto", "balanced", "tiny_photoreal_v1.safetensors").args
    assert assisted[3]["checkpoint"] != "tiny_photoreal_v1.safetensors"
    assert "Excluded by you" in assisted[10]
    model, clip, selection = auto[0], auto[1], auto[3]
    plan = loras.execute(model, clip, analysis, selection, 3, 1.0, "", "cat_ears_sd15.safetensors").args[4]
    assert "cat_ears_sd15.safetensors" not in [lo["name"] for lo in plan["loras"]]
    manual = loras.execute(model, clip, analysis, selection, 0, 1.0, "neon_city_sd15.safetensors:0.35").args
    assert [(lo["name"], lo["weight"]) for lo in manual[4]["loras"]] == [("neon_city_sd15.safetensors", 0.35)]
    assert manual[5].endswith("neon city")  # the pack still adds the trigger word in manual mode
    with pytest.raises(ValueError, match="VAE 'missing.safetensors' is not in the vae folder"):
        select.execute(analysis, "tiny_anime_mix_v2.safetensors", "balanced", "", "missing.safetensors")


def test_rating_node_steers_the_recommender(node_classes: dict[str, Any], comfy_folders: Path) -> None:
    import json

    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    analysis = analysis_of(node_classes, "photo of a cat with cat ears")
    record = {"generation_id": "gen-1", "checkpoint": {"name": "tiny_photoreal_v1.safetensors"},
              "loras": [{"name": "cat_ears_sd15.safetensors", "weight": 0.8}],
              "analysis": analysis, "settings": {}}
    info = PngInfo()
    info.add_text("intelligent_generation", json.dumps(record))
    (comfy_folders / "output").mkdir(exist_ok=True)
    Image.new("RGB", (8, 8)).save(comfy_folders / "output" / "rated.png", pnginfo=info)
    rate = node_classes["IntelligentRateGeneration"]
    assert rate.validate_inputs(image="") != True  # noqa: E712 - a message, not True
    with pytest.raises(ValueError, match="outside ComfyUI's output folder"):
        rate.execute("../secret.png", 1)
    before = node_classes["IntelligentAutoModelSelect"].fingerprint_inputs(checkpoint="auto")
    (text,) = rate.execute("rated.png", 1, "wrong ears").args
    assert "Rated rated.png 1/5" in text
    assert node_classes["IntelligentAutoModelSelect"].fingerprint_inputs(checkpoint="auto") != before
    auto = node_classes["IntelligentAutoModelSelect"].execute(analysis, "auto").args
    # one rating is bounded: it does not outweigh a checkpoint that clearly fits the style...
    assert auto[3]["checkpoint"] == "tiny_photoreal_v1.safetensors"
    recommender = node_classes["IntelligentLoRARecommender"]
    after = recommender.execute(auto[0], auto[1], analysis, auto[3], 3, 1.0).args
    # ...but it is seen and said: the LoRA's score drops and the explanation names the rating
    assert "rated down for similar prompts (1 rating)" in after[6]
    assert "rated down" in next(line for line in after[7].splitlines() if "cat_ears_sd15" in line)
