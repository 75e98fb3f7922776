"""Variations in a real ComfyUI over HTTP: one queued prompt, one saved image per variant, each image the
same pixels as a plain run with its variant's settings, and each recoverable from the saved graph."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from comfy_server import ComfyServer, load_api_workflow
from PIL import Image

from services.records.image_file import RECORD_KEY, read_metadata

SAVE = "8"


def base_graph() -> dict[str, Any]:
    """The bundled workflow at 64x64 and 'fast' quality (18 steps): the tiny models only draw noise."""
    graph = load_api_workflow()
    graph["5"]["inputs"]["width"] = graph["5"]["inputs"]["height"] = 64
    graph["2"]["inputs"]["quality"] = "fast"
    graph["1"]["inputs"]["use_ollama"] = False
    return graph


def with_variations(**inputs: Any) -> dict[str, Any]:
    """Variations (20) between the plan and the KSampler (6): seed, steps and cfg come from it."""
    graph = base_graph()
    graph["20"] = {"class_type": "IntelligentVariations",
                   "inputs": {"seed": 42, "steps": ["2", 4], "cfg": ["2", 5], **inputs}}
    graph["6"]["inputs"].update(seed=["20", 0], steps=["20", 1], cfg=["20", 2])
    return graph


def pixels(path: Path) -> bytes:
    with Image.open(path) as image:
        return image.tobytes()


def run(server: ComfyServer, graph: dict[str, Any]) -> list[Path]:
    return server.output_files(server.run_prompt(graph))


def saved_variants(images: list[Path]) -> list[dict[str, Any]]:
    """Each image's record exactly as Save With Metadata wrote it: it says which variant the image is."""
    return [json.loads(read_metadata(image)[RECORD_KEY]) for image in images]


def test_seed_variation_saves_one_image_per_seed(server: ComfyServer) -> None:
    images = run(server, with_variations(strategy="seed", count=3))
    assert len(images) == 3 and len({pixels(p) for p in images}) == 3
    records = saved_variants(images)
    assert [r["variant"]["index"] for r in records] == [0, 1, 2]
    assert [r["settings"]["seed"] for r in records] == [42, 43, 44]
    assert {r["settings"]["steps"] for r in records} == {18}  # Auto Model Select's plan, passed through
    plain = base_graph()
    plain["6"]["inputs"]["seed"] = 43
    (expected,) = run(server, plain)
    assert pixels(images[1]) == pixels(expected)


def test_parameter_variation_changes_steps_and_cfg(server: ComfyServer) -> None:
    images = run(server, with_variations(strategy="parameters", count=3, steps_spread=6, cfg_spread=1.5))
    assert len(images) == 3
    records = saved_variants(images)
    planned_cfg = records[0]["settings"]["cfg"]
    assert [(r["settings"]["steps"], r["settings"]["cfg"]) for r in records] == [
        (18, planned_cfg), (12, planned_cfg), (18, planned_cfg - 1.5)]
    assert {r["settings"]["seed"] for r in records} == {42}
    plain = base_graph()
    plain["6"]["inputs"]["steps"] = 12
    (expected,) = run(server, plain)
    assert pixels(images[1]) == pixels(expected)


def test_lora_variation_steps_the_weights(server: ComfyServer) -> None:
    graph = with_variations(strategy="loras", count=2, weight_spread=1.0, model=["2", 0], clip=["2", 1],
                            lora_plan=["3", 4])
    graph["6"]["inputs"].update(model=["20", 3], positive=["20", 4], negative=["20", 5])
    images = run(server, graph)
    assert len(images) == 2
    records = saved_variants(images)
    assert [r["variant"]["lora_scale"] for r in records] == [1.0, 0.0]
    assert [lo["name"] for lo in records[0]["loras"]] == ["cat_ears_sd15.safetensors",
                                                          "detail_tweaker_sd15.safetensors"]
    assert records[1]["loras"] == []
    # Variant 1 is the LoRA Recommender's own result; variant 2 the same prompt without any LoRA.
    (recommended,) = run(server, base_graph())
    assert pixels(images[0]) == pixels(recommended)
    bare = copy.deepcopy(base_graph())
    bare["30"] = {"class_type": "CLIPTextEncode", "inputs": {"clip": ["2", 1], "text": ["3", 5]}}
    bare["31"] = {"class_type": "CLIPTextEncode", "inputs": {"clip": ["2", 1], "text": "blurry, lowres"}}
    bare["6"]["inputs"].update(model=["2", 0], positive=["30", 0], negative=["31", 0])
    (without_loras,) = run(server, bare)
    assert pixels(images[1]) == pixels(without_loras)
    assert pixels(images[0]) != pixels(images[1])
