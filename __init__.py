"""Intelligent Generation: ComfyUI entry point (V3 nodes, web extension)."""

import sys

from comfy_api.latest import ComfyExtension, io

from .nodes import routes
from .nodes.apply_lora_tags import ApplyLoraTags
from .nodes.auto_model_select import AutoModelSelect
from .nodes.download_model import DownloadModel
from .nodes.load_generation_metadata import LoadGenerationMetadata
from .nodes.lora_recommender import LoRARecommender
from .nodes.metadata_fetcher import MetadataFetcher
from .nodes.prompt_analyzer import PromptAnalyzer
from .nodes.rate_generation import RateGeneration
from .nodes.save_with_metadata import SaveWithMetadata
from .nodes.variations import Variations

WEB_DIRECTORY = "./web/js"


class IntelligentGenerationExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [PromptAnalyzer, AutoModelSelect, LoRARecommender, MetadataFetcher, SaveWithMetadata,
                LoadGenerationMetadata, ApplyLoraTags, RateGeneration, Variations, DownloadModel]


def add_routes() -> None:
    """The web extension's HTTP routes, on ComfyUI's server. ComfyUI imports its `server` module before
    loading custom nodes; without it (nodes imported in tests) there is nothing to add routes to."""
    server = sys.modules.get("server")
    instance = getattr(getattr(server, "PromptServer", None), "instance", None)
    if instance is not None:
        routes.register(instance.routes)


async def comfy_entrypoint() -> IntelligentGenerationExtension:
    add_routes()
    return IntelligentGenerationExtension()
