from __future__ import annotations

from typing import Any

from comfy_api.latest import io

from ..services.library.scan import Library
from ..services.recommend.analysis import PromptAnalysis
from ..services.recommend.feedback import FeedbackStore
from ..services.recommend.loras import LoraPlan as Plan
from ..services.recommend.loras import plan_loras
from ..services.recommend.pipeline import missing_lines, parse_names
from .comfy import (
    CATEGORY,
    Analysis,
    LoraPlan,
    Selection,
    SelectionPayload,
    apply_loras,
    cache_dir,
    encode,
    library_signature,
    load_library,
    reloaded_if_stale,
)


class LoRARecommender(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="IntelligentLoRARecommender",
            display_name="LoRA Recommender",
            category=CATEGORY,
            description="Applies the LoRAs that fit the prompt and the chosen base model, adds their trigger "
            "words and encodes the prompts.",
            inputs=[
                io.Model.Input("model"),
                io.Clip.Input("clip"),
                Analysis.Input("analysis"),
                Selection.Input("selection"),
                io.Int.Input("max_loras", default=3, min=0, max=8, tooltip="0 applies only LoRAs named in the prompt."),
                io.Float.Input("weight_scale", default=1.0, min=0.0, max=2.0, step=0.05,
                               tooltip="Multiplies every recommended weight."),
                io.String.Input("pinned_loras", default="", multiline=True, optional=True,
                                tooltip="Assisted or manual mode: LoRAs always applied, one per line or comma "
                                "separated, with an optional weight: name.safetensors:0.7"),
                io.String.Input("excluded_loras", default="", optional=True,
                                tooltip="LoRAs never applied, comma separated."),
            ],
            outputs=[
                io.Model.Output("model_with_loras", display_name="MODEL"),
                io.Clip.Output("clip_with_loras", display_name="CLIP"),
                io.Conditioning.Output("positive", display_name="positive"),
                io.Conditioning.Output("negative", display_name="negative"),
                LoraPlan.Output("lora_plan", display_name="lora_plan"),
                io.String.Output("positive_prompt", display_name="positive_prompt"),
                io.String.Output("explanation", display_name="explanation"),
                io.String.Output("candidates", display_name="candidates"),
            ],
        )

    @classmethod
    def fingerprint_inputs(cls, **kwargs: object) -> str:
        return f"{library_signature()}|{FeedbackStore(cache_dir()).version()}"

    @classmethod
    def execute(cls, model: Any, clip: Any, analysis: dict[str, Any], selection: SelectionPayload, max_loras: int = 3,
                weight_scale: float = 1.0, pinned_loras: str = "", excluded_loras: str = "") -> io.NodeOutput:
        parsed = PromptAnalysis.from_dict(analysis)
        library = load_library()
        leans = FeedbackStore(cache_dir()).leans(parsed.concepts, parsed.style)

        def planned(library: Library) -> Plan:
            return plan_loras(library, parsed, selection["family"], max_loras, weight_scale,
                              base_model=selection.get("base_model"), pinned=parse_names(pinned_loras),
                              excluded=frozenset(name for name, _ in parse_names(excluded_loras)), leans=leans)

        plan = planned(library)
        if (again := reloaded_if_stale(library, [("loras", lora.name) for lora in plan.loras])):
            library, plan = again, planned(again)
        plan.reasons += missing_lines(library, parsed, selection["family"], selection.get("base_model"),
                                      selection.get("checkpoint"))
        model, clip = apply_loras(model, clip, [(lora.name, lora.weight) for lora in plan.loras], "LoRA Recommender")
        positive, negative = encode(clip, plan.positive_prompt, plan.negative_prompt)
        text = plan.explain()
        candidates = "\n".join(f"{c['score']:6.2f}  {c['name']} ({c['base_model']}): {c['why']}"
                               for c in plan.candidates)
        return io.NodeOutput(model, clip, positive, negative, plan.to_dict(), plan.positive_prompt, text, candidates,
                             ui={"text": [text]})
