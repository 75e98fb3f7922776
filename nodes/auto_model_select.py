from __future__ import annotations

import comfy.samplers
import folder_paths
import nodes as comfy_nodes
from comfy_api.latest import io

from ..services.analysis import PromptAnalysis
from ..services.recommend import select_checkpoint
from ..services.selection import QUALITY_STEPS, SelectionError
from .common import CATEGORY, Analysis, Selection, library_signature, load_library, vram_budget_gb

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
            ],
        )

    @classmethod
    def fingerprint_inputs(cls, checkpoint: str = AUTO, **_linked: object) -> str:
        # Re-run when the models on disk change, not only when inputs do.
        # Linked inputs (the analysis) are not passed here; ComfyUI keys its cache on them anyway.
        return library_signature() if checkpoint == AUTO else checkpoint

    @classmethod
    def execute(cls, analysis: dict, checkpoint: str = AUTO, quality: str = "balanced") -> io.NodeOutput:
        parsed = PromptAnalysis.from_dict(analysis)
        try:
            selection, _ = select_checkpoint(load_library(), parsed, None if checkpoint == AUTO else checkpoint,
                                             vram_budget_gb(), quality)
        except SelectionError as exc:
            raise ValueError(f"Auto Model Select: {exc}") from exc
        try:
            model, clip, vae = comfy_nodes.CheckpointLoaderSimple().load_checkpoint(selection.checkpoint)
            if selection.vae:
                (vae,) = comfy_nodes.VAELoader().load_vae(selection.vae)
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
        info = {**selection.to_dict(), "analysis": analysis}
        return io.NodeOutput(
            model, clip, vae, info, int(p["steps"]), float(p["cfg"]), sampler, scheduler,
            int(p["width"]), int(p["height"]), text, clip_skip, ui={"text": [text]},
        )
