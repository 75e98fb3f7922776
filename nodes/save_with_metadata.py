from __future__ import annotations

from pathlib import Path

import folder_paths
import numpy as np
from comfy_api.latest import io, ui
from PIL import Image

from ..services.generation_record import build_record, fill_hashes, infotext_for
from ..services.hashing import FileHashes, HashCache
from ..services.image_file import SaveError, png_chunks, write_png
from ..services.naming import MODES, make_name
from .common import CATEGORY, GenerationInfo, cache_dir


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
                               "guid: a random UUID only."),
                io.String.Input("subfolder", default="", tooltip="Inside ComfyUI's output folder; empty for none."),
                io.Boolean.Input("include_workflow", default=True,
                                 tooltip="Embed ComfyUI's prompt and workflow so dragging the image back restores the graph."),
            ],
            hidden=[io.Hidden.prompt, io.Hidden.extra_pnginfo],
            is_output_node=True,
        )

    @classmethod
    def execute(cls, images, generation_info: dict | None = None, filename_mode: str = "standard",
                subfolder: str = "", include_workflow: bool = True) -> io.NodeOutput:
        output_dir = Path(folder_paths.get_output_directory()).resolve()
        folder = (output_dir / subfolder).resolve()
        if not folder.is_relative_to(output_dir):
            raise ValueError("Save With Metadata: subfolder must stay inside ComfyUI's output folder.")
        graph = cls.hidden.prompt if cls.hidden else None
        extra = cls.hidden.extra_pnginfo if cls.hidden else None
        cache = HashCache(cache_dir())

        def hash_of(kind: str, name: str) -> FileHashes | None:
            path = folder_paths.get_full_path(kind, name)
            return cache.hashes(path) if path else None

        results = []
        for tensor in images:
            height, width = int(tensor.shape[0]), int(tensor.shape[1])
            record = build_record(graph, generation_info, width, height)
            fill_hashes(record, hash_of)
            chunks = png_chunks(record, infotext_for(record), graph if include_workflow else None,
                                extra if include_workflow else None)
            pixels = np.clip(255.0 * tensor.cpu().numpy(), 0, 255).astype(np.uint8)
            try:
                path = _write_unique(Image.fromarray(pixels), folder, filename_mode, record, chunks)
            except SaveError as exc:
                raise ValueError(f"Save With Metadata: {exc}") from exc
            relative = path.parent.relative_to(output_dir).as_posix()
            results.append(ui.SavedResult(path.name, "" if relative == "." else relative, io.FolderType.output))
        return io.NodeOutput(ui=ui.SavedImages(results))


def _write_unique(image: Image.Image, folder: Path, mode: str, record: dict, chunks: dict[str, str]) -> Path:
    for _ in range(5):
        stem = make_name(mode, record.get("prompt", ""))
        try:
            return write_png(image, folder, stem, chunks)
        except FileExistsError:
            continue  # another random id; an existing file is never replaced
    raise SaveError(f"Could not find a free file name in {folder.name!r}.")
