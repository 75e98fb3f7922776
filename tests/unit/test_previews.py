"""Preview images other tools leave next to a model: found by their naming conventions, without any network."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from model_files import SD15_LORA, write_safetensors

from services.library.previews import content_type, local_preview
from services.library.scan import folders_under, forget_scans, scan


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


def _fetch(root: Path, cache: Path, civitai: object, level: int) -> object:
    from services.online.lookups import FetchOptions, fetch_metadata, targets_from_library
    from services.online.session import OnlineSettings

    settings = OnlineSettings(civitai_url=civitai.url, hf_url="https://hf.invalid", rate_per_second=100,  # type: ignore[attr-defined]
                              retries=1)
    return fetch_metadata(targets_from_library(scan(folders_under(root))), cache, settings,
                          FetchOptions(huggingface=False, preview_max_nsfw=level))


def test_a_lookup_keeps_the_first_example_image_within_the_rating_asked_for(tmp_path: Path) -> None:
    """Opt-in: the first example rated PG is kept in the cache (not beside the model), the X one before it is
    skipped; with the setting off no image is asked for; a kept preview is not downloaded again."""
    import hashlib

    from fakes.civitai_server import FakeCivitai, civitai_model, civitai_version

    from services.library.previews import stored_preview

    root = tmp_path / "models"
    lora = write_safetensors(root / "loras" / "pixel.safetensors", SD15_LORA)
    sha = hashlib.sha256(lora.read_bytes()).hexdigest()
    with FakeCivitai([], {11: civitai_model(11)}) as civitai:
        civitai.versions.append(civitai_version(sha, 11, 101, images=[
            {"url": f"{civitai.url}/images/x.jpeg", "nsfwLevel": 8, "type": "image"},
            {"url": f"{civitai.url}/images/clip.mp4", "nsfwLevel": 1, "type": "video"},
            {"url": f"{civitai.url}/images/pg.png", "nsfwLevel": 1, "type": "image"}]))
        civitai.images = {"x.jpeg": (b"x-rated", "image/jpeg"), "pg.png": (b"\x89PNG pg", "image/png")}
        off = _fetch(root, tmp_path / "off", civitai, 0)
        assert off.counts.previews == 0 and not [r for r in civitai.requests if r.path.startswith("/images/")]
        report = _fetch(root, tmp_path / "cache", civitai, 1)
        assert report.counts.found == 1 and report.counts.previews == 1
        path, level = stored_preview(tmp_path / "cache", sha)
        assert level == 1 and Path(path).read_bytes() == b"\x89PNG pg"
        assert [r.path for r in civitai.requests if r.path.startswith("/images/")] == ["/images/pg.png"]
        assert not list((root / "loras").glob("pixel.*png"))  # nothing written beside the model
        civitai.requests.clear()
        assert _fetch(root, tmp_path / "cache", civitai, 1).counts.previews == 0  # kept already
        assert not [r for r in civitai.requests if r.path.startswith("/images/")]


def test_an_example_image_that_is_no_image_or_from_another_host_is_not_kept(tmp_path: Path) -> None:
    import hashlib

    from fakes.civitai_server import FakeCivitai, civitai_model, civitai_version

    from services.library.previews import stored_preview

    root = tmp_path / "models"
    lora = write_safetensors(root / "loras" / "pixel.safetensors", SD15_LORA)
    sha = hashlib.sha256(lora.read_bytes()).hexdigest()
    with FakeCivitai([], {11: civitai_model(11)}) as civitai:
        civitai.versions.append(civitai_version(sha, 11, 101, images=[
            {"url": "https://tracker.example/pixel.png", "nsfwLevel": 1, "type": "image"}]))
        foreign = _fetch(root, tmp_path / "a", civitai, 16)
        civitai.versions[0]["images"] = [{"url": f"{civitai.url}/images/page.html", "nsfwLevel": 1, "type": "image"}]
        civitai.images = {"page.html": (b"<html>", "text/html")}
        html = _fetch(root, tmp_path / "b", civitai, 16)
    assert foreign.counts.found == html.counts.found == 1  # the lookup stands
    assert foreign.counts.previews == html.counts.previews == 0
    assert stored_preview(tmp_path / "a", sha) is None and stored_preview(tmp_path / "b", sha) is None
