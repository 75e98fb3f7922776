from __future__ import annotations

from comfy_api.latest import io

from ..services.recommend.llm import OllamaSettings
from ..services.recommend.pipeline import analyze_prompt
from ..services.text.vocabulary import STYLES
from .comfy import CATEGORY, Analysis, cache_dir, load_library, pack_settings

AUTO = "auto"


class PromptAnalyzer(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="IntelligentPromptAnalyzer",
            display_name="Prompt Analyzer",
            category=CATEGORY,
            description="Reads the prompt's style, content and key concepts to drive model, LoRA and parameter "
            "choices: a local Ollama LLM when it answers, else instant keyword rules.",
            inputs=[
                io.String.Input("prompt", multiline=True, default="", tooltip="What you want to see."),
                io.String.Input("negative_prompt", multiline=True, default="",
                                tooltip="What to avoid. Left empty, a negative prompt for the style is suggested."),
                io.Combo.Input("style_hint", options=[AUTO, *STYLES], default=AUTO,
                               tooltip="auto: read from the prompt. Pick one to decide yourself."),
                io.Boolean.Input("use_ollama", default=True,
                                 tooltip="Ask a local Ollama LLM (settings: Intelligent Generation > Ollama); "
                                 "falls back to keyword rules at once when it does not answer."),
                io.String.Input("ollama_model", default=AUTO,
                                tooltip="An installed Ollama model, or auto for the settings' choice."),
            ],
            outputs=[
                Analysis.Output("analysis", display_name="analysis"),
                io.String.Output("concepts", display_name="concepts"),
                io.String.Output("explanation", display_name="explanation"),
            ],
        )

    @classmethod
    def execute(cls, prompt: str, negative_prompt: str = "", style_hint: str = AUTO, use_ollama: bool = True,
                ollama_model: str = AUTO) -> io.NodeOutput:
        settings = None
        if use_ollama:
            stored = pack_settings()
            model = ollama_model.strip() if ollama_model.strip() and ollama_model.strip() != AUTO else stored.ollama_model
            settings = OllamaSettings(host=stored.ollama_url, model=model, keep_alive=stored.ollama_keep_alive)
        result = analyze_prompt(load_library() if settings else None, prompt, negative_prompt, settings, cache_dir(),
                                style_hint)
        text = result.explain()
        return io.NodeOutput(result.to_dict(), ", ".join(result.concepts), text, ui={"text": [text]})
