from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from comfy_server import ComfyServer, ensure_tiny_models


@pytest.fixture(scope="session")
def tiny_models() -> Path:
    return ensure_tiny_models()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, tiny_models: Path) -> Iterator[ComfyServer]:
    """One real ComfyUI for the e2e tests, with the pack, the tiny models and one corrupt checkpoint."""
    base = tmp_path_factory.mktemp("comfy")
    broken = base / "models" / "checkpoints" / "broken_download.safetensors"
    broken.parent.mkdir(parents=True)
    with open(tiny_models / "checkpoints" / "tiny_photoreal_v1.safetensors", "rb") as f:
        broken.write_bytes(f.read(5_000_000))  # an interrupted download
    with ComfyServer(base, models=tiny_models) as s:
        yield s
    shutil.rmtree(base, ignore_errors=True)
