"""The pack's nodes executed inside ComfyUI's own Python (no server): its loaders, its sampler."""

from __future__ import annotations

import asyncio
import importlib
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from comfy_server import COMFYUI, PACK_FOLDER, ROOT, ensure_tiny_models

sys.path.insert(0, str(COMFYUI))
import comfy.cli_args  # noqa: E402

comfy.cli_args.args.cpu = True  # before model management probes CUDA


@pytest.fixture(scope="session")
def pack(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """Import the repository as ComfyUI does: a package named after its custom_nodes folder."""
    custom_nodes = tmp_path_factory.mktemp("custom_nodes")
    (custom_nodes / PACK_FOLDER).symlink_to(ROOT, target_is_directory=True)
    sys.path.insert(0, str(custom_nodes))
    return importlib.import_module(PACK_FOLDER)


@pytest.fixture(scope="session")
def node_classes(pack: ModuleType) -> dict[str, Any]:
    extension = asyncio.run(pack.comfy_entrypoint())
    classes = asyncio.run(extension.get_node_list())
    return {cls.define_schema().node_id: cls for cls in classes}


@pytest.fixture
def comfy_folders(tmp_path: Path) -> Path:
    """ComfyUI's folder_paths pointed at the tiny models and a fresh output and user folder."""
    import folder_paths

    models = ensure_tiny_models()
    saved = {k: folder_paths.folder_names_and_paths[k] for k in ("checkpoints", "loras", "vae")}
    for kind in saved:
        folder_paths.folder_names_and_paths[kind] = ([str(models / kind)], saved[kind][1])
    folder_paths.filename_list_cache.clear()
    folder_paths.set_output_directory(str(tmp_path / "output"))
    folder_paths.set_user_directory(str(tmp_path / "user"))
    yield tmp_path
    folder_paths.folder_names_and_paths.update(saved)
    folder_paths.filename_list_cache.clear()
