"""The Download Model node inside ComfyUI's Python: nothing happens without the confirmation."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes.civitai_server import FakeCivitai, civitai_model, version_for_file
from model_files import write_safetensors

from services.online import session as online

NODE = "IntelligentDownloadModel"
LORA = {"lora_unet_input_blocks_1_1_transformer_blocks_0_attn2_to_k.lora_down.weight": [1024, 1024]}  # 2 MB


@pytest.fixture
def lora_folders(comfy_folders: Path) -> Iterator[list[Path]]:
    """Two LoRA folders of ComfyUI's (models/loras and one from extra_model_paths.yaml), both empty."""
    import folder_paths

    folders = [comfy_folders / "models" / "loras", comfy_folders / "extra" / "loras"]
    saved = folder_paths.folder_names_and_paths["loras"]
    folder_paths.folder_names_and_paths["loras"] = ([str(f) for f in folders], saved[1])
    folder_paths.filename_list_cache.clear()
    yield folders
    folder_paths.folder_names_and_paths["loras"] = saved
    folder_paths.filename_list_cache.clear()


@pytest.fixture
def civitai(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeCivitai, bytes]]:
    data = write_safetensors(tmp_path / "src" / "x.safetensors", LORA).read_bytes()
    version = version_for_file(data, 5, 501, file_name="Watercolor_Wash.safetensors", model_name="Watercolor Wash",
                               trained_words=["watercolor"])
    with FakeCivitai([version], {5: civitai_model(5, "Watercolor Wash", tags=["watercolor"])}, files={501: data}) as fake:
        monkeypatch.setenv(online.CIVITAI_URL_ENV, fake.url)
        monkeypatch.setenv(online.HF_URL_ENV, fake.url)
        monkeypatch.delenv("CIVITAI_API_KEY", raising=False)
        yield fake, data


def run(node_classes: dict[str, Any], **inputs: Any) -> tuple[str, str, dict[str, Any]]:
    values = {"source": "civitai", "civitai_version_id": 501, "hf_repo": "", "hf_file": "", "kind": "loras",
              "confirm_download": False, **inputs}
    name, text, result = node_classes[NODE].execute(**values).args
    return name, text, json.loads(result)


def test_schema_needs_a_switched_on_confirmation(node_classes: dict[str, Any]) -> None:
    schema = node_classes[NODE].define_schema()
    inputs = {i.id: i for i in schema.inputs}
    assert inputs["confirm_download"].default is False and inputs["allow_pickle"].default is False
    assert inputs["kind"].options == ["checkpoints", "loras", "vae"]
    assert schema.is_output_node and [o.id for o in schema.outputs] == ["name", "explanation", "result_json"]


def test_without_confirmation_it_only_says_what_it_would_download(
        node_classes: dict[str, Any], lora_folders: list[Path], civitai: tuple[FakeCivitai, bytes]) -> None:
    fake, data = civitai
    name, text, answer = run(node_classes)
    assert name == "" and answer["status"] == "planned" and answer["sha256"] == hashlib.sha256(data).hexdigest()
    assert "'Watercolor Wash'" in text and "Nothing was downloaded" in text and "confirm_download" in text
    assert fake.by_path("/api/download/") == []
    assert not any(f.exists() and any(f.iterdir()) for f in lora_folders)
    assert str(lora_folders[0]) not in text  # the folder is named, not its path


def test_confirmed_download_lands_in_the_chosen_folder_and_is_listed(
        node_classes: dict[str, Any], lora_folders: list[Path], civitai: tuple[FakeCivitai, bytes]) -> None:
    import folder_paths

    fake, data = civitai
    assert "Watercolor_Wash.safetensors" not in folder_paths.get_filename_list("loras")
    name, text, answer = run(node_classes, confirm_download=True, folder_index=1)
    assert name == "Watercolor_Wash.safetensors" and answer["status"] == "downloaded"
    assert (lora_folders[1] / name).read_bytes() == data and not (lora_folders[0] / name).exists()
    assert "SHA-256 verified" in text and "folder #1 (of 2)" in text
    assert name in folder_paths.get_filename_list("loras")  # ComfyUI's own listing, after its mtime check
    with pytest.raises(ValueError, match="folder 2 does not exist"):
        run(node_classes, confirm_download=True, folder_index=2)


def test_cancel_keeps_the_part_and_the_next_queue_resumes_it(
        node_classes: dict[str, Any], lora_folders: list[Path], civitai: tuple[FakeCivitai, bytes]) -> None:
    import comfy.model_management as mm

    fake, data = civitai
    part = lora_folders[0] / "Watercolor_Wash.safetensors.part"
    mm.interrupt_current_processing(True)  # the user presses Cancel while the download runs
    with pytest.raises(mm.InterruptProcessingException):
        run(node_classes, confirm_download=True)
    kept = part.stat().st_size
    assert 0 < kept < len(data) and not (lora_folders[0] / "Watercolor_Wash.safetensors").exists()
    _name, _text, answer = run(node_classes, confirm_download=True)
    assert answer["resumed_from"] == kept and answer["received"] == len(data) - kept
    assert fake.by_path("/api/download/")[-1].headers["Range"] == f"bytes={kept}-"
    assert (lora_folders[0] / "Watercolor_Wash.safetensors").read_bytes() == data and not part.exists()
