import json
import struct
from pathlib import Path

import pytest
from model_files import SDXL_CHECKPOINT, SDXL_LORA, write_safetensors

from services.library.safetensors_header import HeaderError, read_header
from services.library.scan import folders_under, scan


def test_families_and_sidecars(models_root: Path) -> None:
    lib = scan(folders_under(models_root))
    by_name = {e.name: e for e in lib.entries}
    assert by_name["realVision_v5.safetensors"].family == "sd15"
    assert by_name["xl/juggerPhoto_xl.safetensors"].family == "sdxl"
    assert by_name["xl/juggerPhoto_xl.safetensors"].base_model == "SDXL 1.0"
    anime = by_name["animeMix_v2.safetensors"]
    assert anime.tags == ["anime", "manga"] and anime.sources == ["lora_manager"]
    cat = by_name["catEars.safetensors"]
    assert cat.trigger_words == ["cat ears"] and cat.base_model == "SD 1.5"
    assert by_name["catEarsXL.safetensors"].family == "sdxl"
    oil = by_name["oilPaint.safetensors"]
    assert oil.preferred_weight == 0.6
    assert oil.trigger_words == ["oil painting style"]
    assert oil.description == "Thick oil strokes"  # HTML reduced to text


def test_a_coarse_base_does_not_undo_a_finer_one(models_root: Path) -> None:
    """A1111's sidecar only knows "SDXL": kohya's Illustrious stays, and a "pony/" folder names the base
    when nothing else does."""
    illustrious = models_root / "loras" / "lineart_il.safetensors"
    write_safetensors(illustrious, SDXL_LORA, {"ss_sd_model_name": "illustriousXL_v01.safetensors"})
    illustrious.with_suffix(".json").write_text(json.dumps({"sd version": "SDXL", "activation text": "lineart"}))
    write_safetensors(models_root / "checkpoints" / "pony" / "animeFusion_v6.safetensors", SDXL_CHECKPOINT)
    (models_root / "checkpoints" / "pony" / "animeFusion_v6.json").write_text(json.dumps({"sd version": "SDXL"}))
    lib = scan(folders_under(models_root))
    assert lib.find("loras", "lineart_il.safetensors").base_model == "Illustrious"
    assert lib.find("checkpoints", "pony/animeFusion_v6.safetensors").base_model == "Pony"
    assert lib.find("checkpoints", "xl/juggerPhoto_xl.safetensors").base_model == "SDXL 1.0"


def test_lora_manager_wins_over_a1111(models_root: Path) -> None:
    lora = models_root / "loras" / "oilPaint.metadata.json"
    lora.write_text('{"model_name": "Oil Paint Pro", "base_model": "SD 1.5", "tags": ["oil"]}')
    entry = scan(folders_under(models_root)).find("loras", "oilPaint")
    assert entry is not None
    assert entry.title == "Oil Paint Pro"
    assert entry.sources == ["lora_manager", "a1111"]
    assert entry.preferred_weight == 0.6  # only the A1111 sidecar says it


def test_broken_sidecar_is_reported_not_fatal(models_root: Path) -> None:
    (models_root / "loras" / "catEars.metadata.json").write_text("{not json")
    entry = scan(folders_under(models_root)).find("loras", "catEars.safetensors")
    assert entry is not None and entry.usable
    assert any("catEars.metadata.json" in p for p in entry.problems)
    assert entry.trigger_words == ["cat ears"]


def test_metadata_cannot_override_tensor_family(models_root: Path) -> None:
    (models_root / "loras" / "catEars.civitai.info").write_text('{"baseModel": "SDXL 1.0"}')
    entry = scan(folders_under(models_root)).find("loras", "catEars")
    assert entry is not None
    assert entry.family == "sd15"
    assert any("trusting the tensors" in p for p in entry.problems)


def test_truncated_and_garbage_files(tmp_path: Path, models_root: Path) -> None:
    good = models_root / "checkpoints" / "realVision_v5.safetensors"
    data = good.read_bytes()
    cut = models_root / "checkpoints" / "cut.safetensors"
    cut.write_bytes(data[: len(data) - 100])
    junk = models_root / "checkpoints" / "junk.safetensors"
    junk.write_bytes(struct.pack("<Q", 10**12) + b"xx")
    with pytest.raises(HeaderError, match="truncated"):
        read_header(cut)
    with pytest.raises(HeaderError, match="not plausible"):
        read_header(junk)
    lib = scan(folders_under(models_root))
    assert not lib.find("checkpoints", "cut.safetensors").usable  # type: ignore[union-attr]
    assert not lib.find("checkpoints", "junk.safetensors").usable  # type: ignore[union-attr]


def test_pickle_files_are_listed_but_never_opened(models_root: Path) -> None:
    ckpt = models_root / "checkpoints" / "old.ckpt"
    ckpt.write_bytes(b"\x80\x04 not really a pickle")
    entry = scan(folders_under(models_root)).find("checkpoints", "old.ckpt")
    assert entry is not None and entry.family == "unknown" and entry.problems == []


def test_diffusion_models_are_listed_not_chosen(models_root: Path) -> None:
    """A UNet-only file (diffusion_models/ or unet/) needs its own text encoders: indexed under its kind, never
    handed to the checkpoint loader, and named with its real folder."""
    write_safetensors(models_root / "unet" / "photoUnet.safetensors", SDXL_CHECKPOINT)
    lib = scan(folders_under(models_root))
    (unet,) = lib.of_kind("diffusion_models")
    assert unet.name == "photoUnet.safetensors" and unet.family == "sdxl"
    assert "photoUnet.safetensors" not in {e.name for e in lib.of_kind("checkpoints")}
