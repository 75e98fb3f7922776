from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import comfy.model_management
import folder_paths
import numpy as np
from comfy.cli_args import args
from comfy_api.latest import io, ui
from comfy_execution.utils import get_executing_context
from PIL import Image

from ..services.library.describe import describe
from ..services.library.hashing import FileHashes, HashCache
from ..services.records.generation import build_record, fill_hashes, for_image, infotext_for
from ..services.records.image_file import FORMATS, SaveError, png_chunks, write_image, write_json
from ..services.records.naming import (
    DEFAULT_PATTERN,
    MODES,
    candidates,
    check_pattern,
    check_relative,
    safe_subfolder,
)
from ..services.records.variations import with_variant
from .comfy import CATEGORY, GenerationInfo, cache_dir

NAME_TRIES = 20


class SaveWithMetadata(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="IntelligentSaveWithMetadata",
            display_name="Save With Metadata",
            category=CATEGORY,
            description="Saves images with the full generation config: ComfyUI's workflow, A1111-style "
            "parameters with model and LoRA hashes, and our own record. No paths or user names.",
            inputs=[
                io.Image.Input("images"),
                GenerationInfo.Input("generation_info", optional=True),
                io.Combo.Input("filename_mode", options=list(MODES), default="standard",
                               tooltip="standard: UTC time + random id; descriptive: adds words of the prompt; "
                               "guid: a random UUID only; custom: name_pattern."),
                io.String.Input("subfolder", default="", tooltip="Inside ComfyUI's output folder; empty for none."),
                io.Boolean.Input("include_workflow", default=True,
                                 tooltip="Embed ComfyUI's prompt and workflow so dragging the image back restores the graph."),
                io.Combo.Input("format", options=list(FORMATS), default="png", optional=True,
                               tooltip="png keeps everything; jpeg and webp carry the metadata in EXIF "
                               "(JPEG's is limited to 64 KiB: the workflow goes first when it is too big)."),
                io.Int.Input("quality", default=90, min=1, max=100, optional=True,
                             tooltip="JPEG and WebP quality; 100 makes WebP lossless."),
                io.String.Input("name_pattern", default=DEFAULT_PATTERN, optional=True,
                                tooltip="For custom names: {date} {time} (UTC; {date:%Y-%m-%d} for other "
                                "layouts), {guid} ({guid:8} for 8 hex), {seed}, {model}, {slug}, {counter}. "
                                "'/' makes subfolders."),
                io.Boolean.Input("include_prompts", default=True, optional=True,
                                 tooltip="Off: no prompts anywhere (nor the workflow, which holds them, "
                                 "nor a prompt slug in the name)."),
                io.Boolean.Input("include_metadata", default=True, optional=True,
                                 tooltip="Off: a plain image without any metadata."),
                io.Boolean.Input("sidecar", default=False, optional=True,
                                 tooltip="Also write our record as <name>.json beside the image."),
            ],
            hidden=[io.Hidden.prompt, io.Hidden.extra_pnginfo, io.Hidden.unique_id],
            is_output_node=True,
        )

    @classmethod
    def validate_inputs(cls, filename_mode: str = "standard", subfolder: str = "",
                        name_pattern: str = DEFAULT_PATTERN) -> bool | str:
        if filename_mode not in MODES:
            return f"filename_mode must be one of {', '.join(MODES)}."
        problem = check_relative(subfolder, "Subfolder")
        if not problem and filename_mode == "custom":
            problem = check_pattern(name_pattern)
        return problem or True

    @classmethod
    def execute(cls, images: Any, generation_info: dict[str, Any] | None = None, filename_mode: str = "standard",
                subfolder: str = "", include_workflow: bool = True, format: str = "png", quality: int = 90,
                name_pattern: str = DEFAULT_PATTERN, include_prompts: bool = True, include_metadata: bool = True,
                sidecar: bool = False) -> io.NodeOutput:
        problem = cls.validate_inputs(filename_mode, subfolder, name_pattern)
        if problem is not True:
            raise ValueError(f"Save With Metadata: {problem}")
        output_dir = Path(folder_paths.get_output_directory())
        folder = output_dir / safe_subfolder(subfolder)  # names are made safe, then checked again at the write
        graph = cls.hidden.prompt if cls.hidden else None
        extra = cls.hidden.extra_pnginfo if cls.hidden else None
        node_id = cls.hidden.unique_id if cls.hidden else None
        cache = HashCache(cache_dir())

        def hash_of(kind: str, name: str) -> FileHashes | None:
            path = folder_paths.get_full_path(kind, name)
            return cache.hashes(path) if path else None

        def base_of(kind: str, name: str) -> str | None:
            path = folder_paths.get_full_path(kind, name)
            return describe(kind, Path(path), name).base_model if path else None

        height, width = int(images.shape[1]), int(images.shape[2])
        batch = build_record(graph, generation_info, width, height, include_prompts, node_id, _peak_vram_mb())
        # Downstream of a Variations node ComfyUI runs this once per variant: record which one this is.
        context = get_executing_context()
        batch = with_variant(batch, graph, node_id, context.list_index if context else None,
                             (generation_info or {}).get("parameters"))
        fill_hashes(batch, hash_of, base_of)
        # The graph holds the prompts; ComfyUI's --disable-metadata leaves it out, as SaveImage does.
        embed_graph = include_workflow and include_prompts and not args.disable_metadata
        shared = png_chunks(None, infotext_for(batch), graph if embed_graph else None, extra if embed_graph else None)
        results = []
        for index, tensor in enumerate(images):
            now = datetime.now(timezone.utc)  # one time for the record and the file name
            record = for_image(batch, index, len(images), now)
            chunks = {**shared, **png_chunks(record, None, None, None)} if include_metadata else {}
            pixels = np.clip(255.0 * tensor.cpu().numpy(), 0, 255).astype(np.uint8)
            names = candidates(filename_mode, folder, record.get("prompt", ""), now, name_pattern,
                               seed=_int(record["settings"].get("seed")), model=record["checkpoint"].get("name"))
            try:
                path = _write_unique(Image.fromarray(pixels), output_dir, folder, names, chunks, format, quality,
                                     record if sidecar else None)
            except SaveError as exc:
                raise ValueError(f"Save With Metadata: {exc}") from exc
            relative = path.parent.relative_to(output_dir).as_posix()
            results.append(ui.SavedResult(path.name, "" if relative == "." else relative, io.FolderType.output))
        return io.NodeOutput(ui=ui.SavedImages(results))


def _write_unique(image: Image.Image, root: Path, folder: Path, names: Iterator[str], chunks: dict[str, str],
                  fmt: str, quality: int, record: dict[str, Any] | None) -> Path:
    for stem in itertools.islice(names, NAME_TRIES):
        try:
            path = write_image(image, folder, stem, chunks, fmt, quality, root=root)
        except FileExistsError:
            continue  # another name; an existing file is never replaced
        if record is None:
            return path
        try:
            write_json(folder, stem, record, root=root)
            return path
        except FileExistsError:
            path.unlink()  # the pair shares one name: try the next
        except SaveError:
            path.unlink()  # no image without the sidecar that was asked for
            raise
    raise SaveError(f"Could not find a free file name in {folder.name!r}.")


def _int(value: object) -> int | None:
    return value if isinstance(value, int) else None


def _peak_vram_mb() -> int | None:
    """Peak CUDA memory since the previous save (or ComfyUI's start); None without CUDA."""
    import torch

    if comfy.model_management.get_torch_device().type != "cuda":
        return None
    peak = torch.cuda.max_memory_allocated()
    torch.cuda.reset_peak_memory_stats()  # so the next save reports its own generation
    return round(peak / 2**20) or None
