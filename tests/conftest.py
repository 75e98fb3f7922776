"""Shared fixtures. Markers follow folders: tests/unit -> unit, tests/comfy -> comfy, tests/e2e -> e2e,
tests/browser -> browser."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests"))  # not as `tests.`: ComfyUI has a `tests` package too

from model_files import SD15_CHECKPOINT, SD15_LORA, SDXL_CHECKPOINT, SDXL_LORA, write_safetensors  # noqa: E402


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for marker in ("unit", "comfy", "e2e", "browser"):
            if f"tests/{marker}/" in item.path.as_posix():
                item.add_marker(getattr(pytest.mark, marker))


@pytest.fixture
def models_root(tmp_path: Path) -> Path:
    """A small ComfyUI-style models folder with sidecars in the formats other tools write."""
    root = tmp_path / "models"
    write_safetensors(root / "checkpoints" / "realVision_v5.safetensors", SD15_CHECKPOINT)
    write_safetensors(root / "checkpoints" / "animeMix_v2.safetensors", SD15_CHECKPOINT)
    (root / "checkpoints" / "animeMix_v2.metadata.json").write_text(
        json.dumps({"model_name": "Anime Mix", "base_model": "SD 1.5", "tags": ["anime", "manga"]})
    )
    write_safetensors(root / "checkpoints" / "xl" / "juggerPhoto_xl.safetensors", SDXL_CHECKPOINT)
    write_safetensors(root / "loras" / "catEars.safetensors", SD15_LORA, {"ss_base_model_version": "sd_v1"})
    (root / "loras" / "catEars.civitai.info").write_text(
        json.dumps({"baseModel": "SD 1.5", "trainedWords": ["cat ears"], "model": {"name": "Cat Ears", "tags": ["cat"]}})
    )
    write_safetensors(root / "loras" / "catEarsXL.safetensors", SDXL_LORA)
    (root / "loras" / "catEarsXL.civitai.info").write_text(
        json.dumps({"baseModel": "SDXL 1.0", "trainedWords": ["cat ears"], "model": {"name": "Cat Ears XL"}})
    )
    write_safetensors(root / "loras" / "oilPaint.safetensors", SD15_LORA)
    (root / "loras" / "oilPaint.json").write_text(
        json.dumps({"sd version": "SD1", "activation text": "oil painting style", "preferred weight": 0.6,
                    "description": "<p>Thick <b>oil</b> strokes</p>"})
    )
    (root / "vae").mkdir(parents=True)
    return root


@pytest.fixture
def documents_made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the LoRAs whose search documents are really made from their metadata (not reused or read
    back from the index); the library's memory of earlier scans is forgotten first."""
    from services.library import scan as library
    from services.library import search as retrieval

    made: list[str] = []
    real = retrieval.Document.of

    def spy(*args: object, **kwargs: object) -> retrieval.Document:
        made.append(str(args[3]))  # the LoRA's name
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(retrieval.Document, "of", spy)
    library.forget_scans()
    return made
