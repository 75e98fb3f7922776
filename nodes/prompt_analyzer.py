from __future__ import annotations

from comfy_api.latest import io

from ..services.ollama_analyzer import OllamaSettings, analyze
from .common import CATEGORY, Analysis


class PromptAnalyzer(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="IntelligentPromptAnalyzer",
            display_name="Prompt Analyzer",
            category=CATEGORY,
            description="Reads the prompt's style, content and key concepts to drive model, LoRA and parameter choices.",
            inputs=[
                io.String.Input("prompt", multiline=True, default="", tooltip="What you want to see."),
                io.String.Input("negative_prompt", multiline=True, default="", tooltip="What to avoid."),
                io.Combo.Input(
                    "engine",
                    options=["auto", "keywords", "ollama"],
                    default="auto",
                    tooltip="auto: a local Ollama LLM when it answers, else instant keyword rules.",
                ),
            ],
            outputs=[
                Analysis.Output("analysis", display_name="analysis"),
                io.String.Output("explanation", display_name="explanation"),
            ],
        )

    @classmethod
    def execute(cls, prompt: str, negative_prompt: str, engine: str = "auto") -> io.NodeOutput:
        result = analyze(prompt, negative_prompt, OllamaSettings.from_env(), engine=engine)
        text = result.explain()
        return io.NodeOutput(result.to_dict(), text, ui={"text": [text]})
