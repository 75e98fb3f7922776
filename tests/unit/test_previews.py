"""Preview images other tools leave next to a model: found by their naming conventions, without any network."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from model_files import SD15_LORA, write_safetensors

from services.library import folders_under, forget_scans, scan
from services.previews import content_type, local_preview


@pytest.mark.parametrize("preview", [
    "pixel.png",  # A1111's extra networks
    "pixel.preview.png",  # CivitAI Helper
    "pixel.preview.jpeg",  # Stability Matrix
    "pixel.webp",  # LoRA Manager
])
def test_each_tool_s_preview_is_found(tmp_path: Path, preview: str) -> None:
    write_safetensors(tmp_path / "models" / "loras" / "pixel.safetensors", SD15_LORA)
    (tmp_path / "models" / "loras" / preview).write_bytes(b"image")
    entry = scan(folders_under(tmp_path / "models")).find("loras", "pixel.safetensors")
    assert entry is not None and entry.preview == preview and content_type(preview) is not None


def test_a_preview_made_on_purpose_wins_and_videos_are_no_images(tmp_path: Path) -> None:
    folder = tmp_path / "loras"
    folder.mkdir()
    for name in ("a.png", "a.preview.jpeg", "b.mp4", "b.preview.mp4"):
        (folder / name).write_bytes(b"x")
    assert local_preview(str(folder / "a.safetensors")) == "a.preview.jpeg"
    assert local_preview(str(folder / "b.safetensors")) == ""


def test_the_nsfw_level_comes_from_the_sidecar_that_saved_the_preview(tmp_path: Path) -> None:
    loras = tmp_path / "models" / "loras"
    write_safetensors(loras / "manager.safetensors", SD15_LORA)
    (loras / "manager.webp").write_bytes(b"x")
    (loras / "manager.metadata.json").write_text(json.dumps({"model_name": "M", "preview_nsfw_level": 12}))
    write_safetensors(loras / "helper.safetensors", SD15_LORA)
    (loras / "helper.preview.png").write_bytes(b"x")
    (loras / "helper.civitai.info").write_text(json.dumps({"model": {"name": "H"}, "images": [{"nsfwLevel": 1}]}))
    write_safetensors(loras / "old.safetensors", SD15_LORA)
    (loras / "old.civitai.info").write_text(json.dumps({"model": {"name": "O"}, "images": [{"nsfw": "Mature"}]}))
    library = scan(folders_under(tmp_path / "models"))
    levels = {e.name: e.preview_nsfw for e in library.of_kind("loras")}
    assert levels == {"manager.safetensors": 8, "helper.safetensors": 1, "old.safetensors": 4}


def test_a_preview_added_later_is_seen_by_the_next_scan(tmp_path: Path) -> None:
    loras = tmp_path / "models" / "loras"
    write_safetensors(loras / "pixel.safetensors", SD15_LORA)
    forget_scans()
    cache = tmp_path / "cache"
    assert scan(folders_under(tmp_path / "models"), cache).find("loras", "pixel.safetensors").preview == ""
    (loras / "pixel.preview.png").write_bytes(b"x")
    later = time.time() + 5  # past the folder watch's racy window
    os.utime(loras, (later, later))
    assert scan(folders_under(tmp_path / "models"), cache).find("loras", "pixel.safetensors").preview == \
        "pixel.preview.png"
