from __future__ import annotations

from comfy_api.latest import io

from ..services.recommend.feedback import FeedbackError, FeedbackStore
from .comfy import CATEGORY, cache_dir, saved_record


class RateGeneration(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="IntelligentRateGeneration",
            display_name="Rate Generation",
            category=CATEGORY,
            description="Rates an image saved by Save With Metadata (1 to 5 stars). Later recommendations for "
            "similar prompts lean towards what you rated well. Ratings stay on this machine.",
            inputs=[
                io.String.Input("image", default="", tooltip="The saved image's name in ComfyUI's output folder "
                                "(with its subfolder), e.g. 20260101_120000_1a2b3c4d.png"),
                io.Int.Input("rating", default=3, min=1, max=5, tooltip="1 (bad) to 5 (great); 3 is neutral."),
                io.String.Input("comment", default="", multiline=True, optional=True),
            ],
            outputs=[io.String.Output("explanation", display_name="explanation")],
            is_output_node=True,
        )

    @classmethod
    def validate_inputs(cls, image: str = "", rating: int = 3, **_: object) -> bool | str:
        if not image.strip():
            return "Name the image to rate (its file name in ComfyUI's output folder)."
        return True

    @classmethod
    def execute(cls, image: str, rating: int, comment: str = "") -> io.NodeOutput:
        try:
            row = FeedbackStore(cache_dir()).rate(saved_record(image), rating, comment)
        except (FeedbackError, OSError) as exc:
            raise ValueError(f"Rate Generation: {exc}") from exc
        text = (f"Rated {image} {rating}/5. Choices: {row['checkpoint']}"
                + (", " + ", ".join(lo["name"] for lo in row["loras"]) if row["loras"] else "")
                + ". Similar prompts will lean " + ("towards" if rating > 3 else "away from" if rating < 3 else
                                                   "neither way from") + " them.")
        return io.NodeOutput(text, ui={"text": [text]})
