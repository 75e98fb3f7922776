from __future__ import annotations

from typing import Any

from comfy_api.latest import io
from comfy_execution.graph_utils import ExecutionBlocker

from ..services.recommend.loras import LoraPlanDict
from ..services.records.variations import (
    MAX_CFG,
    MAX_COUNT,
    MAX_SEED,
    MAX_STEPS,
    STRATEGIES,
    Variant,
    VariationSettings,
    expand,
    explain,
)
from .comfy import CATEGORY, LoraPlan, apply_loras, encode

NEEDS_PLAN = ("Variations: connect model and clip (Auto Model Select's, before the LoRAs) and the LoRA "
              "Recommender's lora_plan to use the MODEL, positive and negative outputs.")


class Variations(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="IntelligentVariations",
            display_name="Variations",
            category=CATEGORY,
            description="Turns one plan into several: the nodes after it (KSampler, VAE Decode, Save) run once "
            "per variant. Variant 1 is always the plan as recommended.",
            inputs=[
                io.Combo.Input("strategy", options=list(STRATEGIES), default="seed",
                               tooltip="seed: consecutive seeds. parameters: steps and cfg around the "
                               "recommendation, same seed. loras: every LoRA weight stepped, same seed."),
                io.Int.Input("count", default=4, min=1, max=MAX_COUNT, tooltip="How many variants."),
                io.Int.Input("seed", default=0, min=0, max=MAX_SEED, control_after_generate=True),
                io.Int.Input("steps", default=20, min=1, max=MAX_STEPS,
                             tooltip="Link Auto Model Select's steps to vary around its recommendation."),
                io.Float.Input("cfg", default=7.0, min=0.0, max=MAX_CFG, step=0.1, round=0.01,
                               tooltip="Link Auto Model Select's cfg to vary around its recommendation."),
                io.Int.Input("steps_spread", default=4, min=0, max=100, optional=True,
                             tooltip="parameters: steps move by this much per step away from the plan."),
                io.Float.Input("cfg_spread", default=1.0, min=0.0, max=10.0, step=0.1, round=0.01, optional=True,
                               tooltip="parameters: cfg moves by this much per step away from the plan."),
                io.Float.Input("weight_spread", default=0.25, min=0.0, max=1.0, step=0.05, round=0.01,
                               optional=True,
                               tooltip="loras: weights are scaled by 1, 1-s, 1+s, 1-2s ... (never below 0)."),
                io.Model.Input("model", optional=True,
                               tooltip="For LoRA variation: the model before any LoRA (Auto Model Select's)."),
                io.Clip.Input("clip", optional=True, tooltip="For LoRA variation: Auto Model Select's CLIP."),
                LoraPlan.Input("lora_plan", optional=True, tooltip="For LoRA variation: the LoRA Recommender's plan."),
            ],
            outputs=[
                io.Int.Output("seed_out", display_name="seed", is_output_list=True),
                io.Int.Output("steps_out", display_name="steps", is_output_list=True),
                io.Float.Output("cfg_out", display_name="cfg", is_output_list=True),
                io.Model.Output("model_out", display_name="MODEL", is_output_list=True),
                io.Conditioning.Output("positive", display_name="positive", is_output_list=True),
                io.Conditioning.Output("negative", display_name="negative", is_output_list=True),
                io.String.Output("explanation", display_name="explanation"),
            ],
        )

    @classmethod
    def execute(cls, strategy: str, count: int, seed: int, steps: int, cfg: float, steps_spread: int = 4,
                cfg_spread: float = 1.0, weight_spread: float = 0.25, model: Any = None, clip: Any = None,
                lora_plan: LoraPlanDict | None = None) -> io.NodeOutput:
        settings = VariationSettings(strategy, count, seed, steps, cfg, steps_spread, cfg_spread, weight_spread)
        try:
            variants = expand(settings)
        except ValueError as exc:
            raise ValueError(f"Variations: {exc}") from exc
        has_plan = model is not None and clip is not None and lora_plan is not None
        if strategy == "loras" and not has_plan:
            raise ValueError(NEEDS_PLAN)
        text = explain(variants, settings)
        models: Any  # one list per output, or one blocker for all of them
        positives: Any
        negatives: Any
        if has_plan:
            assert lora_plan is not None
            # Other strategies keep the plan as it is: one item, which ComfyUI repeats for every variant.
            applied = [_apply(model, clip, lora_plan, v) for v in (variants if strategy == "loras" else variants[:1])]
            models, positives, negatives = (list(items) for items in zip(*applied, strict=True))
        else:
            blocked = ExecutionBlocker(NEEDS_PLAN)
            models, positives, negatives = blocked, blocked, blocked
        return io.NodeOutput([v.seed for v in variants], [v.steps for v in variants], [v.cfg for v in variants],
                             models, positives, negatives, text, ui={"text": [text]})


def _apply(model: Any, clip: Any, plan: LoraPlanDict, variant: Variant) -> tuple[Any, Any, Any]:
    """The variant's model with the plan's LoRAs at its weights, and the plan's prompts encoded with its CLIP,
    through ComfyUI's own LoraLoader and CLIPTextEncode as the LoRA Recommender does."""
    weights = [(lora["name"], variant.lora_weight(float(lora["weight"]))) for lora in plan.get("loras", [])]
    model, clip = apply_loras(model, clip, [(name, weight) for name, weight in weights if weight != 0], "Variations")
    positive, negative = encode(clip, plan.get("positive_prompt", ""), plan.get("negative_prompt", ""))
    return model, positive, negative
