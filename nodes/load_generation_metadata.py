from __future__ import annotations

import os
from pathlib import Path

import comfy.samplers
import folder_paths
from comfy_api.latest import io

from ..services.library.hashing import HashCache
from ..services.records.image_file import read_metadata
from ..services.records.naming import check_relative
from ..services.records.read_back import explain, lora_tag_text, match_model, read_generation, reproduction_info
from .comfy import CATEGORY, GenerationInfo, cache_dir

# KSampler's own defaults, for values an image does not carry (the explanation lists them).
DEFAULTS = {"prompt": "", "negative_prompt": "", "seed": 0, "steps": 20, "cfg": 8.0, "sampler": "euler",
            "scheduler": "normal", "width": 512, "height": 512}


class CheckpointNames(list[str]):
    """The checkpoint list for the output's type. ComfyUI freezes a node's output types at first use but
    lists ckpt_name afresh on every run; equal to any list, the link stays valid after a new download."""

    def __ne__(self, other: object) -> bool:
        return not isinstance(other, list)


class LoadGenerationMetadata(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        input_dir = folder_paths.get_input_directory()
        names = os.listdir(input_dir) if os.path.isdir(input_dir) else []
        files = [f for f in names if os.path.isfile(os.path.join(input_dir, f))]
        return io.Schema(
            node_id="IntelligentLoadGenerationMetadata",
            display_name="Load Generation Metadata",
            category=CATEGORY,
            description="Reads how an image was made (our record, A1111 parameters or ComfyUI's prompt) and "
            "outputs prompts, seed and settings, checkpoint and LoRAs, to reproduce it.",
            inputs=[
                io.Combo.Input("image", options=sorted(folder_paths.filter_files_content_types(files, ["image"])),
                               upload=io.UploadType.image, tooltip="An image in ComfyUI's input folder, or upload one."),
            ],
            outputs=[
                io.String.Output("prompt", display_name="prompt"),
                io.String.Output("negative_prompt", display_name="negative_prompt"),
                io.Int.Output("seed", display_name="seed"),
                io.Int.Output("steps", display_name="steps"),
                io.Float.Output("cfg", display_name="cfg"),
                io.Combo.Output("sampler_name", display_name="sampler_name", options=comfy.samplers.KSampler.SAMPLERS),
                io.Combo.Output("scheduler", display_name="scheduler", options=comfy.samplers.KSampler.SCHEDULERS),
                io.Int.Output("width", display_name="width"),
                io.Int.Output("height", display_name="height"),
                io.Combo.Output("checkpoint", display_name="checkpoint",
                                options=CheckpointNames(folder_paths.get_filename_list("checkpoints"))),
                io.String.Output("loras", display_name="loras",
                                 tooltip="<lora:name:weight> tags, as A1111 writes them and LoRA Recommender reads them."),
                io.String.Output("explanation", display_name="explanation"),
                io.Int.Output("clip_layer", display_name="clip_layer",
                              tooltip="For CLIP Set Last Layer: -1 without clip skip, -2 for clip skip 2."),
                GenerationInfo.Output("generation_info", display_name="generation_info",
                                      tooltip="For Save With Metadata: the reproduction records the same settings."),
            ],
        )

    @classmethod
    def validate_inputs(cls, image: str) -> bool | str:
        path = _image_path(image)
        if path is None or not path.is_file():
            return f"Invalid image file: {image}"
        return True

    @classmethod
    def fingerprint_inputs(cls, image: str) -> str:
        path = _image_path(image)
        if path is None or not path.is_file():
            return image
        st = path.stat()
        return f"{image}:{st.st_size}:{st.st_mtime_ns}"

    @classmethod
    def execute(cls, image: str) -> io.NodeOutput:
        path = _image_path(image)
        if path is None or not path.is_file():
            raise ValueError(f"Load Generation Metadata: no image file {image!r} in ComfyUI's input folder.")
        try:
            saved = read_generation(read_metadata(path))
        except OSError as exc:
            raise ValueError(f"Load Generation Metadata: cannot read {path.name}: {exc}") from exc
        if not saved.values:
            raise ValueError(f"Load Generation Metadata: {path.name} carries no generation metadata "
                             "(no record, no A1111 parameters, no ComfyUI prompt).")
        v = {**DEFAULTS, **saved.values}
        notes = [explain(saved)]
        missing = [k for k in DEFAULTS if k not in saved.values]
        if missing:
            notes.append(f"Not in the image, KSampler's defaults used: {', '.join(missing)}.")
        if v["sampler"] not in comfy.samplers.KSampler.SAMPLERS:
            notes.append(f"Sampler {v['sampler']!r} has no ComfyUI equivalent; using euler: not an exact reproduction.")
            v["sampler"] = "euler"
        if v["scheduler"] not in comfy.samplers.KSampler.SCHEDULERS:
            notes.append(f"Schedule {v['scheduler']!r} has no ComfyUI equivalent; using normal: not an exact reproduction.")
            v["scheduler"] = "normal"
        checkpoint = _local_checkpoint(saved.values.get("checkpoint"), saved.hashes.get("checkpoint"), notes)
        available = folder_paths.get_filename_list("loras")
        loras = []
        for lora in saved.values.get("loras") or []:
            local = match_model(lora["name"], available)
            if local is None:
                notes.append(f"LoRA {lora['name']} is not in your loras folder.")
            loras.append({"name": local or lora["name"], "weight": float(lora["weight"])})
        tags = lora_tag_text(loras, available)
        text = "\n".join(notes)
        info = reproduction_info(v, checkpoint, loras, saved, path.name)
        return io.NodeOutput(
            v["prompt"], v["negative_prompt"], v["seed"], v["steps"], v["cfg"], v["sampler"], v["scheduler"],
            v["width"], v["height"], checkpoint, tags, text, -(saved.clip_skip or 1), info, ui={"text": [text]},
        )


def _image_path(image: str) -> Path | None:
    """The file an image input names, or None when the name would leave its folder."""
    name, base = folder_paths.annotated_filepath(image)
    if not name or check_relative(name, "Image"):
        return None
    return Path(base or folder_paths.get_input_directory()) / name


def _local_checkpoint(name: str | None, wanted_hash: str | None, notes: list[str]) -> str:
    if not name:
        notes.append("No checkpoint named in the image.")
        return ""
    cache = HashCache(cache_dir())

    def cached_hash(candidate: str) -> str | None:
        path = folder_paths.get_full_path("checkpoints", candidate)
        known = cache.get(path) if path else None  # only what was hashed before: no hashing here
        return known.sha256 if known else None

    local = match_model(name, folder_paths.get_filename_list("checkpoints"), cached_hash, wanted_hash)
    if local is None:
        notes.append(f"Checkpoint {name} is not in your checkpoints folder.")
        return name
    if local != name:
        notes.append(f"Checkpoint {name} is {local} here.")
    return local
