"""Intelligent Generation: ComfyUI entry point (V3 nodes, web extension)."""

from comfy_api.latest import ComfyExtension, io

from .nodes.auto_model_select import AutoModelSelect
from .nodes.lora_recommender import LoRARecommender
from .nodes.metadata_fetcher import MetadataFetcher
from .nodes.prompt_analyzer import PromptAnalyzer
from .nodes.save_with_metadata import SaveWithMetadata

WEB_DIRECTORY = "./web/js"


class IntelligentGenerationExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [PromptAnalyzer, AutoModelSelect, LoRARecommender, MetadataFetcher, SaveWithMetadata]


async def comfy_entrypoint() -> IntelligentGenerationExtension:
    return IntelligentGenerationExtension()
