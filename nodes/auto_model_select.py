from __future__ import annotations

from typing import Any

import comfy.samplers
import folder_paths
import nodes as comfy_nodes
from comfy_api.latest import io

from ..services.recommend.analysis import PromptAnalysis
from ..services.recommend.checkpoint import QUALITY_STEPS, SelectionError
from ..services.recommend.feedback import FeedbackStore
from ..services.recommend.pipeline import Choices, parse_names, select_checkpoint
from .comfy import (
    CATEGORY,
    Analysis,
    Selection,
    SelectionPayload,
    cache_dir,
    library_signature,
    load_library,
    reloaded_if_stale,
    vram_budget_gb,
)

AUTO = "auto"


class AutoModelSelect(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="IntelligentAutoModelSelect",
            display_name="Auto Model Select",
            category=CATEGORY,
            description="Picks the checkpoint (and a compatible VAE) that fits the analysis, loads it with "
            "ComfyUI's loader and recommends sampling parameters.",
            inputs=[
                Analysis.Input("analysis"),
                io.Combo.Input(
                    "checkpoint",
                    options=[AUTO, *folder_paths.get_filename_list("checkpoints")],
                    default=AUTO,
                    tooltip="auto: chosen for the prompt. Pick a file to decide yourself.",
                ),
                io.Combo.Input("quality", options=list(QUALITY_STEPS), default="balanced",
                               tooltip="Scales the recommended steps: fast 0.6x, high 1.3x, ultra 1.6x."),
                io.String.Input("exclude", default="", optional=True,
                                tooltip="Assisted mode: checkpoints never to choose, comma separated."),
                io.Combo.Input("vae_file", options=[AUTO, *folder_paths.get_filename_list("vae")], default=AUTO,
                               optional=True, tooltip="auto: the checkpoint's own, or a matching one when it "
                               "has none. Pick a file to decide yourself."),
            ],
            outputs=[
                io.Model.Output("model", display_name="MODEL"),
                io.Clip.Output("clip", display_name="CLIP"),
                io.Vae.Output("vae", display_name="VAE"),
                Selection.Output("selection", display_name="selection"),
                io.Int.Output("steps", display_name="steps"),
                io.Float.Output("cfg", display_name="cfg"),
                io.Combo.Output("sampler_name", display_name="sampler_name", options=comfy.samplers.KSampler.SAMPLERS),
                io.Combo.Output("scheduler", display_name="scheduler", options=comfy.samplers.KSampler.SCHEDULERS),
                io.Int.Output("width", display_name="width"),
                io.Int.Output("height", display_name="height"),
                io.String.Output("explanation", display_name="explanation"),
                io.Int.Output("clip_skip", display_name="clip_skip"),
                io.String.Output("candidates", display_name="candidates"),
            ],
        )

    @classmethod
    def fingerprint_inputs(cls, checkpoint: str = AUTO, **_linked: object) -> str:
        # Re-run when the models on disk or the ratings change, not only when inputs do.
        # Linked inputs (the analysis) are not passed here; ComfyUI keys its cache on them anyway.
        ratings = FeedbackStore(cache_dir()).version()
        return f"{library_signature()}|{ratings}" if checkpoint == AUTO else f"{checkpoint}|{ratings}"

    @classmethod
    def execute(cls, analysis: dict[str, Any], checkpoint: str = AUTO, quality: str = "balanced", exclude: str = "",
                vae_file: str = AUTO) -> io.NodeOutput:
        parsed = PromptAnalysis.from_dict(analysis)
        choices = Choices(checkpoint=None if checkpoint == AUTO else checkpoint, vae=None if vae_file == AUTO else vae_file,
                          excluded_checkpoints=frozenset(name for name, _ in parse_names(exclude)))
        leans = FeedbackStore(cache_dir()).leans(parsed.concepts, parsed.style)
        try:
            library = load_library()
            selection, _ = select_checkpoint(library, parsed, None, vram_budget_gb(), quality, choices, leans)
            if (again := reloaded_if_stale(library, [("checkpoints", selection.checkpoint), ("vae", selection.vae)])):
                selection, _ = select_checkpoint(again, parsed, None, vram_budget_gb(), quality, choices, leans)
        except SelectionError as exc:
            raise ValueError(f"Auto Model Select: {exc}") from exc
        try:
            model, clip, vae_model = comfy_nodes.CheckpointLoaderSimple().load_checkpoint(selection.checkpoint)
            if selection.vae:
                (vae_model,) = comfy_nodes.VAELoader().load_vae(selection.vae)
            clip_skip = int(selection.parameters.get("clip_skip", 1))
            if clip_skip > 1:
                (clip,) = comfy_nodes.CLIPSetLastLayer().set_last_layer(clip, -clip_skip)
        except Exception as exc:  # ComfyUI's loaders raise many kinds; name the file and the fix
            raise ValueError(
                f"Auto Model Select: loading {selection.checkpoint} failed ({exc}). The file may be corrupt or "
                "incomplete: re-download it, or pick another checkpoint."
            ) from exc
        p = selection.parameters
        sampler = p["sampler"] if p["sampler"] in comfy.samplers.KSampler.SAMPLERS else "euler"
        scheduler = p["scheduler"] if p["scheduler"] in comfy.samplers.KSampler.SCHEDULERS else "normal"
        text = selection.explain()
        info = SelectionPayload(**selection.to_dict(), analysis=analysis)
        ranked = sorted(selection.scores.items(), key=lambda item: -item[1])
        candidates = "\n".join(f"{score:6.2f}  {name}" for name, score in ranked[:15])
        return io.NodeOutput(
            model, clip, vae_model, info, int(p["steps"]), float(p["cfg"]), sampler, scheduler,
            int(p["width"]), int(p["height"]), text, clip_skip, candidates, ui={"text": [text]},
        )
