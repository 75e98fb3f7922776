"""Draw the template thumbnail for example_workflows/intelligent_text_to_image (a node diagram)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
BOXES = [
    ("Prompt Analyzer", "style, concepts", (30, 40)),
    ("Auto Model Select", "checkpoint, VAE, params", (30, 170)),
    ("LoRA Recommender", "LoRAs + trigger words", (290, 40)),
    ("Metadata Fetcher", "hashes", (290, 170)),
    ("KSampler", "ComfyUI core", (550, 40)),
    ("Save With Metadata", "PNG + parameters", (550, 170)),
]
ARROWS = [(0, 1), (1, 2), (0, 2), (2, 3), (2, 4), (1, 4), (4, 5), (3, 5)]


def main() -> None:
    img = Image.new("RGB", (800, 300), (32, 34, 40))
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=18)
    small = ImageFont.load_default(size=14)
    centers = [(x + 105, y + 40) for _title, _note, (x, y) in BOXES]
    for a, b in ARROWS:
        draw.line([centers[a], centers[b]], fill=(110, 160, 230), width=3)
    for title, note, (x, y) in BOXES:
        draw.rounded_rectangle([x, y, x + 210, y + 80], radius=10, fill=(58, 62, 74), outline=(140, 180, 240), width=2)
        draw.text((x + 12, y + 14), title, fill=(240, 240, 245), font=font)
        draw.text((x + 12, y + 46), note, fill=(170, 190, 210), font=small)
    draw.text((30, 268), "Intelligent text to image: type a prompt, everything else is chosen and explained",
              fill=(200, 200, 210), font=small)
    img.save(ROOT / "example_workflows" / "intelligent_text_to_image.jpg", quality=90)


if __name__ == "__main__":
    main()
