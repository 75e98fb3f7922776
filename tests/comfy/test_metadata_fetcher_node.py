"""The Metadata Fetcher node inside ComfyUI's Python: offline by default, online only when asked."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes.civitai_server import FakeCivitai, civitai_model, civitai_version

from services.online import session as online


def sha_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def civitai(comfy_folders: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCivitai]:
    """The documented base-URL setting pointed at a loopback CivitAI that knows the cat-ears LoRA."""
    import folder_paths

    lora = Path(folder_paths.get_full_path_or_raise("loras", "cat_ears_sd15.safetensors"))
    version = civitai_version(sha_of(lora), 31, 301, model_name="Cat Ears", trained_words=["cat ears", "nekomimi"])
    with FakeCivitai([version], {31: civitai_model(31, name="Cat Ears", tags=["animal ears"])}) as fake:
        monkeypatch.setenv(online.CIVITAI_URL_ENV, fake.url)
        monkeypatch.setenv(online.HF_URL_ENV, fake.url)
        yield fake


def selection_and_plan(node_classes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    analysis, _concepts, _ = node_classes["IntelligentPromptAnalyzer"].execute(
        "photo of a cat with cat ears", "", use_ollama=False).args
    selection = {"checkpoint": "tiny_photoreal_v1.safetensors", "base_model": "SD 1.5", "parameters": {},
                 "reasons": [], "analysis": analysis}
    plan = {"loras": [{"name": "cat_ears_sd15.safetensors", "weight": 0.8}], "reasons": []}
    return selection, plan


def test_schema_keeps_old_slots_and_adds_outputs_at_the_end(node_classes: dict[str, Any]) -> None:
    schema = node_classes["IntelligentMetadataFetcher"].define_schema()
    assert [o.id for o in schema.outputs] == ["generation_info", "explanation", "metadata_json", "trigger_words"]
    inputs = {i.id: i for i in schema.inputs}
    assert list(inputs)[:2] == ["selection", "lora_plan"]
    assert inputs["online_lookup"].default is False  # the bundled workflow never goes online
    assert inputs["civitai_host"].options == ["civitai.com", "civitai.red"]


def test_default_run_stays_offline(node_classes: dict[str, Any], civitai: FakeCivitai) -> None:
    selection, plan = selection_and_plan(node_classes)
    out = node_classes["IntelligentMetadataFetcher"].execute(selection, plan)
    info, text, metadata_json, triggers = out.args
    assert civitai.requests == []
    assert len(info["checkpoint"]["sha256"]) == 64 and info["loras"][0]["name"] == "cat_ears_sd15.safetensors"
    metadata = json.loads(metadata_json)
    assert [m["name"] for m in metadata["models"]] == ["tiny_photoreal_v1.safetensors", "cat_ears_sd15.safetensors"]
    assert all(m["outcome"] == "unknown" and m["record"] is None for m in metadata["models"])
    assert triggers == "" and "Offline" in text


def test_online_selection_lookup_fills_records_and_trigger_words(node_classes: dict[str, Any],
                                                                 civitai: FakeCivitai, comfy_folders: Path) -> None:
    selection, plan = selection_and_plan(node_classes)
    node = node_classes["IntelligentMetadataFetcher"]
    info, text, metadata_json, triggers = node.execute(selection, plan, online_lookup=True,
                                                       civitai_host="civitai.red").args
    assert triggers == "cat ears, nekomimi"
    metadata = json.loads(metadata_json)
    assert metadata["counts"] == {"files": 2, "hashed": 0, "hash_cache_hits": 2, "found": 1, "not_found": 1,
                                  "errors": 0, "requests": 2, "previews": 0}
    lora = metadata["models"][1]
    assert lora["record"]["name"] == "Cat Ears" and lora["record"]["tags"] == ["animal ears"]
    assert "fields" not in lora["record"]["lookups"]["civitai"]
    assert "1 found, 1 not found, 0 failed" in text
    assert info["loras"][0]["sha256"] == lora["hashes"]["sha256"]
    assert (comfy_folders / "user" / "intelligent_generation" / "model_records" /
            f"{lora['hashes']['sha256']}.json").is_file()
    paths = {r.path for r in civitai.requests}
    assert paths == {"/api/v1/model-versions/by-hash", "/api/v1/models/31"}

    # Offline afterwards, the stored record still answers.
    _, _, again, triggers = node.execute(None, None, scope="model", model="loras/cat_ears_sd15.safetensors").args
    assert triggers == "cat ears, nekomimi" and json.loads(again)["models"][0]["outcome"] == "found"
    assert len(civitai.requests) == 2


def test_folder_scope_and_bad_scopes(node_classes: dict[str, Any], civitai: FakeCivitai) -> None:
    node = node_classes["IntelligentMetadataFetcher"]
    info, _, metadata_json, triggers = node.execute(None, None, scope="loras", online_lookup=True).args
    metadata = json.loads(metadata_json)
    assert info == {} and triggers == ""
    assert metadata["counts"]["files"] == 4 and metadata["counts"]["found"] == 1
    assert {m["kind"] for m in metadata["models"]} == {"loras"}
    with pytest.raises(ValueError, match="connect a selection"):
        node.execute(None, None)
    with pytest.raises(ValueError, match="needs a model from the list"):
        node.execute(None, None, scope="model", model="loras/../../etc/passwd")


def test_folder_scopes_run_again_when_files_change(node_classes: dict[str, Any], comfy_folders: Path) -> None:
    import folder_paths

    node = node_classes["IntelligentMetadataFetcher"]
    extra = comfy_folders / "more_loras"
    extra.mkdir()
    folder_paths.folder_names_and_paths["loras"][0].append(str(extra))
    try:
        before = node.fingerprint_inputs(scope="loras", online_lookup=True)
        assert node.fingerprint_inputs(scope="selection") == node.fingerprint_inputs(scope="model")
        (extra / "new.safetensors").write_bytes(b"x")
        assert node.fingerprint_inputs(scope="loras", online_lookup=True) != before
    finally:
        folder_paths.folder_names_and_paths["loras"][0].remove(str(extra))


def test_an_update_check_names_a_newer_version_for_the_same_base_model(node_classes: dict[str, Any],
                                                                       civitai: FakeCivitai) -> None:
    """The cat-ears LoRA is version 301 of model 31 (SD 1.5); CivitAI also lists a newer SD 1.5 version and an
    SDXL one. With check_updates the node says the first is an update, not the second; without online_lookup
    it sends nothing and says so."""
    node = node_classes["IntelligentMetadataFetcher"]
    offline = node.execute(None, None, scope="model", model="loras/cat_ears_sd15.safetensors", check_updates=True)
    assert "not checked, online_lookup is off" in offline.args[1] and civitai.requests == []
    civitai.versions[:0] = [civitai_version("b" * 64, 31, 304, name="XL", base_model="SDXL 1.0"),
                            civitai_version("a" * 64, 31, 303, name="v3.0")]
    text = node.execute(None, None, scope="model", model="loras/cat_ears_sd15.safetensors", online_lookup=True,
                        check_updates=True).args[1]
    assert "1 with a newer version for the same base model" in text
    assert "v3.0 (version 303)" in text and "version 304" not in text
    asked = [r for r in civitai.requests if r.path == "/api/v1/models"]
    assert len(asked) == 1 and asked[0].query["ids"] == ["31"]
