from __future__ import annotations

import comfy.utils
from comfy_api.latest import io

from ..services.generation_info import collect_generation_info
from ..services.hashing import HashCache
from .common import CATEGORY, GenerationInfo, LoraPlan, Selection, cache_dir, full_path, load_library


class MetadataFetcher(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="IntelligentMetadataFetcher",
            display_name="Metadata Fetcher",
            category=CATEGORY,
            description="Hashes the chosen checkpoint and LoRAs (SHA-256, cached) and gathers what is known "
            "of them, for Save With Metadata.",
            inputs=[
                Selection.Input("selection"),
                LoraPlan.Input("lora_plan", optional=True),
            ],
            outputs=[
                GenerationInfo.Output("generation_info", display_name="generation_info"),
                io.String.Output("explanation", display_name="explanation"),
            ],
        )

    @classmethod
    def execute(cls, selection: dict, lora_plan: dict | None = None) -> io.NodeOutput:
        library = load_library()
        files = [("checkpoints", selection["checkpoint"])]
        files += [("loras", lora["name"]) for lora in (lora_plan or {}).get("loras", [])]
        paths = {name: full_path(kind, name) for kind, name in files}
        bar = comfy.utils.ProgressBar(100)
        info, text = collect_generation_info(
            selection, lora_plan, library, paths, HashCache(cache_dir()),
            progress=lambda done, total: bar.update_absolute(int(100 * done / max(total, 1)), 100),
        )
        return io.NodeOutput(info, text, ui={"text": [text]})
