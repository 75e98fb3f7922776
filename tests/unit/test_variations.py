"""Variations: the expansion of one plan into several, and finding a saved image's variant in the graph."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from services.records.generation import build_record, for_image
from services.records.variations import (
    MAX_SEED,
    VariationSettings,
    expand,
    settings_in_graph,
    variant_of,
    with_variant,
)

# The bundled workflow's shape: Auto Model Select (2) plans steps and cfg, the LoRA Recommender (3) the LoRAs,
# Save With Metadata (8) saves; Variations (20) sits between the plan and the KSampler (6).
GRAPH: dict[str, Any] = {
    "1": {"class_type": "IntelligentPromptAnalyzer", "inputs": {"prompt": "a cat", "negative_prompt": ""}},
    "2": {"class_type": "IntelligentAutoModelSelect", "inputs": {"analysis": ["1", 0], "checkpoint": "auto"}},
    "3": {"class_type": "IntelligentLoRARecommender", "inputs": {"model": ["2", 0], "clip": ["2", 1],
          "analysis": ["1", 0], "selection": ["2", 3], "max_loras": 3, "weight_scale": 1.0}},
    "4": {"class_type": "IntelligentMetadataFetcher", "inputs": {"selection": ["2", 3], "lora_plan": ["3", 4]}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
    "20": {"class_type": "IntelligentVariations", "inputs": {"strategy": "seed", "count": 3, "seed": 42,
           "steps": ["2", 4], "cfg": ["2", 5]}},
    "6": {"class_type": "KSampler", "inputs": {"model": ["3", 0], "positive": ["3", 2], "negative": ["3", 3],
          "latent_image": ["5", 0], "seed": ["20", 0], "steps": ["20", 1], "cfg": ["20", 2],
          "sampler_name": "euler", "scheduler": "normal", "denoise": 1.0}},
    "7": {"class_type": "VAEDecode", "inputs": {"samples": ["6", 0], "vae": ["2", 2]}},
    "8": {"class_type": "IntelligentSaveWithMetadata", "inputs": {"images": ["7", 0], "generation_info": ["4", 0]}},
}
INFO: dict[str, Any] = {
    "checkpoint": {"name": "photo.safetensors"},
    "loras": [{"name": "cat.safetensors", "weight": 0.72}, {"name": "detail.safetensors", "weight": 0.45}],
    "parameters": {"steps": 30, "cfg": 6.5, "sampler": "euler", "scheduler": "normal"},
    "positive_prompt": "a cat, cat ears",
}


def graph_with(**variation_inputs: Any) -> dict[str, Any]:
    graph = copy.deepcopy(GRAPH)
    graph["20"]["inputs"].update(variation_inputs)
    return graph


def record_for(graph: dict[str, Any], index: int, planned: dict[str, Any] | None = None) -> dict[str, Any]:
    """What Save With Metadata would store for its `index`-th call with the hook applied."""
    return with_variant(build_record(graph, INFO, 64, 64, output_node="8"), graph, "8", index, planned)


def test_seed_variation_counts_up_from_the_base_seed() -> None:
    variants = expand(VariationSettings("seed", 3, seed=42, steps=30, cfg=6.5))
    assert [(v.index, v.count, v.seed, v.steps, v.cfg) for v in variants] == [
        (0, 3, 42, 30, 6.5), (1, 3, 43, 30, 6.5), (2, 3, 44, 30, 6.5)]
    assert [v.seed for v in expand(VariationSettings("seed", 2, seed=MAX_SEED))] == [MAX_SEED, 0]


def test_parameter_variation_walks_a_grid_around_the_plan() -> None:
    variants = expand(VariationSettings("parameters", 6, seed=1, steps=30, cfg=6.5, steps_spread=4, cfg_spread=1.0))
    assert [(v.steps, v.cfg) for v in variants] == [(30, 6.5), (26, 6.5), (30, 5.5), (30, 7.5), (34, 6.5),
                                                    (26, 5.5)]
    assert {v.seed for v in variants} == {1}
    # Steps never go below 1; values that clamp to the same pair are not repeated.
    low = expand(VariationSettings("parameters", 4, steps=2, cfg=0.5, steps_spread=4, cfg_spread=1.0))
    assert [(v.steps, v.cfg) for v in low] == [(2, 0.5), (1, 0.5), (2, 0.0), (2, 1.5)]
    # Only cfg moves when the steps spread is 0.
    cfg_only = expand(VariationSettings("parameters", 3, steps=20, cfg=7.0, steps_spread=0, cfg_spread=0.5))
    assert [(v.steps, v.cfg) for v in cfg_only] == [(20, 7.0), (20, 6.5), (20, 7.5)]


def test_nothing_to_vary_gives_one_variant_and_says_so() -> None:
    variants = expand(VariationSettings("parameters", 4, steps=20, cfg=7.0, steps_spread=0, cfg_spread=0))
    assert len(variants) == 1 and variants[0].count == 1


def test_lora_variation_steps_weights_never_below_zero() -> None:
    variants = expand(VariationSettings("loras", 5, seed=7, weight_spread=0.25))
    assert [v.lora_scale for v in variants] == [1.0, 0.75, 1.25, 0.5, 1.5]
    assert variants[1].lora_weight(0.72) == 0.54
    wide = expand(VariationSettings("loras", 5, weight_spread=0.6))
    assert [v.lora_scale for v in wide] == [1.0, 0.4, 1.6, 0.0, 2.2]


@pytest.mark.parametrize("settings, message", [
    (VariationSettings("colour"), "strategy must be one of"),
    (VariationSettings("seed", 0), "count must be between"),
    (VariationSettings("loras", 2, weight_spread=-0.1), "negative"),
    (VariationSettings("parameters", 2, steps=None), "needs the base steps and cfg"),
])
def test_unusable_settings_are_refused(settings: VariationSettings, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        expand(settings)


def test_graph_settings_take_linked_values_from_the_plan() -> None:
    graph = graph_with(strategy="parameters", steps_spread=2)
    settings = settings_in_graph(graph["20"], graph, {"steps": 30, "cfg": 6.5})
    assert settings == VariationSettings("parameters", 3, 42, 30, 6.5, steps_spread=2)
    assert settings_in_graph(graph["20"], graph, {}) == VariationSettings("parameters", 3, 42, None, None, 2)


def test_record_names_the_variant_and_its_real_seed() -> None:
    records = [record_for(GRAPH, i) for i in range(3)]
    assert [r["settings"]["seed"] for r in records] == [42, 43, 44]
    assert {r["settings"]["steps"] for r in records} == {30}  # the plan's, which Variations passed through
    assert records[1]["variant"] == {"index": 1, "count": 3, "strategy": "seed", "seed": 43, "steps": 30,
                                     "cfg": 6.5, "lora_scale": 1.0, "node": "20", "applied": ["seed", "steps", "cfg"]}
    assert records[1]["loras"] == INFO["loras"]  # the model did not come from Variations
    # Each image of a batch keeps its variant; applying the hook again changes nothing.
    assert for_image(records[2], 0, 1)["variant"]["index"] == 2
    assert with_variant(records[2], GRAPH, "8", 0) is records[2]


def test_only_what_the_sampler_takes_from_variations_is_replaced() -> None:
    graph = graph_with(strategy="parameters")
    graph["6"]["inputs"]["steps"] = 12  # the sampler's own widget, not the variant's steps
    record = record_for(graph, 1, INFO["parameters"])
    assert record["variant"]["applied"] == ["seed", "cfg"]
    assert record["variant"]["steps"] == 26  # Variations' own output, which the sampler did not take
    assert record["settings"]["steps"] == 12 and record["settings"]["cfg"] == 6.5
    assert record_for(graph, 2, INFO["parameters"])["settings"]["cfg"] == 5.5
    # Without the plan, the base steps of the grid are unknown (the record's 12 is the sampler's): no claim.
    assert "variant" not in record_for(graph, 1)


def test_seed_through_a_primitive_node() -> None:
    graph = graph_with(seed=["30", 0])
    graph["30"] = {"class_type": "PrimitiveInt", "inputs": {"value": 1000}}
    assert record_for(graph, 2)["settings"]["seed"] == 1002


def test_lora_variant_scales_the_record_weights_and_drops_unapplied_loras() -> None:
    graph = graph_with(strategy="loras", count=4, weight_spread=0.5, model=["2", 0], clip=["2", 1],
                       lora_plan=["3", 4])
    for key, output in (("model", 3), ("positive", 4), ("negative", 5)):
        graph["6"]["inputs"][key] = ["20", output]
    graph["6"]["inputs"]["seed"] = 42
    records = [record_for(graph, i) for i in range(4)]
    assert [r["variant"]["lora_scale"] for r in records] == [1.0, 0.5, 1.5, 0.0]
    assert [lo["weight"] for lo in records[1]["loras"]] == [0.36, 0.225]
    assert records[3]["loras"] == []  # at weight 0 nothing was applied
    assert records[0]["loras"] == INFO["loras"] and records[0]["settings"]["seed"] == 42
    assert records[1]["variant"]["applied"] == ["steps", "cfg", "model", "positive", "negative"]


def test_no_variations_or_unknown_index_leaves_the_record_alone() -> None:
    plain = copy.deepcopy(GRAPH)
    del plain["20"]
    for key, value in (("seed", 42), ("steps", ["2", 4]), ("cfg", ["2", 5])):
        plain["6"]["inputs"][key] = value
    record = build_record(plain, INFO, 64, 64, output_node="8")
    assert with_variant(record, plain, "8", 0) is record
    assert variant_of(GRAPH, "8", 3) is None  # a fourth call cannot be one of three variants
    assert variant_of(None, "8", 0) is None
    # Another save, not fed by the Variations node, is not one of its variants.
    side = copy.deepcopy(GRAPH) | {"9": {"class_type": "SaveImage", "inputs": {"images": ["10", 0]}},
                                   "10": {"class_type": "LoadImage", "inputs": {"image": "x.png"}}}
    assert variant_of(side, "9", 0) is None and variant_of(side, "8", 0) is not None


def test_unknown_base_for_a_varied_value_gives_no_variant() -> None:
    graph = graph_with(strategy="parameters")
    assert variant_of(graph, "8", 1, base={}) is None
    assert variant_of(graph, "8", 1, base={"steps": 30, "cfg": 6.5}) is not None
