"""The Variations node inside ComfyUI's Python: list outputs, and LoRA variation through ComfyUI's loaders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

NODE = "IntelligentVariations"


def strengths(model: Any) -> set[float]:
    """The LoRA strengths patched into a ModelPatcher (one per applied LoRA file)."""
    return {round(patch[0], 4) for patches in model.patches.values() for patch in patches}


def test_schema_emits_lists_except_the_explanation(node_classes: dict[str, Any]) -> None:
    schema = node_classes[NODE].define_schema()
    assert (schema.display_name, schema.category) == ("Variations", "Intelligent Generation")
    assert [(o.display_name, o.is_output_list) for o in schema.outputs] == [
        ("seed", True), ("steps", True), ("cfg", True), ("MODEL", True), ("positive", True), ("negative", True),
        ("explanation", False)]


def test_seed_variation_without_a_model(node_classes: dict[str, Any]) -> None:
    from comfy_execution.graph_utils import ExecutionBlocker

    out = node_classes[NODE].execute("seed", 3, 42, 30, 6.5)
    seeds, steps, cfg, model, positive, negative, text = out.args
    assert (seeds, steps, cfg) == ([42, 43, 44], [30, 30, 30], [6.5, 6.5, 6.5])
    # Sampling from the unconnected model outputs fails with the reason, not with a None somewhere later.
    assert isinstance(model, ExecutionBlocker) and "connect model and clip" in model.message
    assert "variant 2/3: seed 43" in text and out.ui == {"text": [text]}


def test_lora_variation_needs_the_plan(node_classes: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="Variations: connect model and clip"):
        node_classes[NODE].execute("loras", 2, 1, 20, 7.0)
    with pytest.raises(ValueError, match="Variations: count must be between"):
        node_classes[NODE].execute("seed", 0, 1, 20, 7.0)


def test_lora_variation_applies_the_plan_at_stepped_weights(node_classes: dict[str, Any], comfy_folders: Path) -> None:
    import nodes
    import torch

    analysis, _, _ = node_classes["IntelligentPromptAnalyzer"].execute(
        "photo of a cat with cat ears", "blurry", use_ollama=False).args
    model, clip, _, selection, *_ = node_classes["IntelligentAutoModelSelect"].execute(analysis, "auto").args
    recommended, _, positive, negative, plan, *_ = node_classes["IntelligentLoRARecommender"].execute(
        model, clip, analysis, selection, 3, 1.0).args
    weights = [lo["weight"] for lo in plan["loras"]]
    assert len(weights) == 2
    out = node_classes[NODE].execute("loras", 3, 5, 3, 4.0, weight_spread=1.0, model=model, clip=clip,
                                     lora_plan=plan)
    seeds, steps, cfg, models, positives, negatives, text = out.args
    assert seeds == [5, 5, 5] and len(models) == len(positives) == len(negatives) == 3
    assert strengths(models[0]) == strengths(recommended) == set(weights)
    assert models[1] is model and not models[1].patches  # weights x0: no LoRA at all
    assert strengths(models[2]) == {round(2 * w, 4) for w in weights}
    assert "LoRA weights x2" in text
    with torch.inference_mode():  # variant 1 is the LoRA Recommender's own result, to the pixel
        latent = nodes.EmptyLatentImage().generate(64, 64, 1)[0]
        ours = nodes.common_ksampler(models[0], 5, 3, 4.0, "euler", "normal", positives[0], negatives[0], latent)[0]
        theirs = nodes.common_ksampler(recommended, 5, 3, 4.0, "euler", "normal", positive, negative, latent)[0]
    assert torch.equal(ours["samples"], theirs["samples"])


def test_other_strategies_pass_the_plan_through_once(node_classes: dict[str, Any], comfy_folders: Path) -> None:
    analysis, _, _ = node_classes["IntelligentPromptAnalyzer"].execute("photo of a cat with cat ears", "",
                                                                      use_ollama=False).args
    model, clip, _, selection, *_ = node_classes["IntelligentAutoModelSelect"].execute(analysis, "auto").args
    plan = node_classes["IntelligentLoRARecommender"].execute(model, clip, analysis, selection, 3, 1.0).args[4]
    out = node_classes[NODE].execute("parameters", 4, 5, 30, 6.5, model=model, clip=clip, lora_plan=plan)
    seeds, steps, cfg, models, positives, _, _ = out.args
    assert list(zip(steps, cfg, strict=True)) == [(30, 6.5), (26, 6.5), (30, 5.5), (30, 7.5)]
    assert len(models) == len(positives) == 1  # ComfyUI repeats the last item for every variant
    assert strengths(models[0]) == {lo["weight"] for lo in plan["loras"]}
