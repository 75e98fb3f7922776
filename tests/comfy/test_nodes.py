from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from comfy_server import ensure_tiny_models

from services.records.image_file import RECORD_KEY, read_metadata

IDS = ["IntelligentPromptAnalyzer", "IntelligentAutoModelSelect", "IntelligentLoRARecommender",
       "IntelligentMetadataFetcher", "IntelligentSaveWithMetadata", "IntelligentLoadGenerationMetadata",
       "IntelligentApplyLoraTags", "IntelligentRateGeneration", "IntelligentVariations", "IntelligentDownloadModel"]


def test_entrypoint_lists_every_node_with_valid_schemas(node_classes: dict[str, Any]) -> None:
    assert sorted(node_classes) == sorted(IDS)
    for cls in node_classes.values():
        schema = cls.define_schema()
        schema.validate()
        assert schema.category == "Intelligent Generation"


def test_pack_exports_no_v1_mappings(pack: Any) -> None:
    assert not hasattr(pack, "NODE_CLASS_MAPPINGS")  # ComfyUI would then ignore comfy_entrypoint
    assert pack.WEB_DIRECTORY == "./web/js"


def test_chain_in_process_loads_applies_and_saves(node_classes: dict[str, Any], comfy_folders: Path) -> None:
    import comfy.model_patcher
    import nodes
    import torch

    analysis, concepts, text = node_classes["IntelligentPromptAnalyzer"].execute(
        "anime girl with cat ears, cherry blossoms", "lowres", use_ollama=False).args
    assert "cherry" in concepts
    assert analysis["style"] == "anime" and "Analysis (keywords)" in text
    out = node_classes["IntelligentAutoModelSelect"].execute(analysis, "auto").args
    model, clip, vae, selection, steps, cfg, sampler, scheduler, width, height, explanation, clip_skip, ranked = out
    assert ranked.splitlines()[0].endswith("tiny_anime_mix_v2.safetensors")
    assert isinstance(model, comfy.model_patcher.ModelPatcher)
    assert selection["checkpoint"] == "tiny_anime_mix_v2.safetensors"
    assert (steps, sampler, width, height) == (28, "euler_ancestral", 448, 576)  # a character: portrait frame
    assert clip_skip == 1
    model2, clip2, positive, negative, plan, prompt, _, _ = node_classes["IntelligentLoRARecommender"].execute(
        model, clip, analysis, selection, 3, 1.0).args
    # the concept asked for, then a general detail enhancer in the free slot; stacked, both turned down
    assert [(lo["name"], lo["weight"]) for lo in plan["loras"]] == [
        ("cat_ears_sd15.safetensors", 0.72), ("detail_tweaker_sd15.safetensors", 0.45)]
    assert "cat_ears_xl.safetensors" in plan["rejected"]
    assert model2 is not model and model2.patches  # the LoRA really patched the model
    info, *_ = node_classes["IntelligentMetadataFetcher"].execute(selection, plan).args
    assert len(info["checkpoint"]["sha256"]) == 64
    with torch.inference_mode():  # as ComfyUI's executor runs nodes
        latent = nodes.EmptyLatentImage().generate(64, 64, 1)[0]
        samples = nodes.common_ksampler(model2, 3, 4, cfg, sampler, scheduler, positive, negative, latent)[0]
        (images,) = nodes.VAEDecode().decode(vae, samples)
        result = node_classes["IntelligentSaveWithMetadata"].execute(images, info, "guid", "", True)
    (saved,) = result.ui.as_dict()["images"]
    path = comfy_folders / "output" / saved["filename"]
    record = json.loads(read_metadata(path)[RECORD_KEY])
    assert record["settings"]["steps"] == 28 and record["loras"][0]["weight"] == 0.72
    assert len(path.stem) == 36  # a bare UUID4


def test_empty_models_folder_says_what_to_do(node_classes: dict[str, Any], comfy_folders: Path) -> None:
    import folder_paths

    folder_paths.folder_names_and_paths["checkpoints"] = ([str(comfy_folders / "empty")], {".safetensors"})
    analysis, _, _ = node_classes["IntelligentPromptAnalyzer"].execute("a cat", "", use_ollama=False).args
    with pytest.raises(ValueError, match="No usable checkpoint found.*models/checkpoints"):
        node_classes["IntelligentAutoModelSelect"].execute(analysis, "auto")


def test_fingerprint_follows_the_library(node_classes: dict[str, Any], comfy_folders: Path, tmp_path: Path) -> None:
    import folder_paths

    select = node_classes["IntelligentAutoModelSelect"]
    extra = tmp_path / "more"
    extra.mkdir()
    folder_paths.folder_names_and_paths["loras"][0].append(str(extra))
    before = select.fingerprint_inputs(checkpoint="auto")
    assert select.fingerprint_inputs(checkpoint="auto") == before
    (extra / "new_lora.safetensors").write_bytes(b"x")
    assert select.fingerprint_inputs(checkpoint="auto") != before
    folder_paths.folder_names_and_paths["loras"][0].remove(str(extra))


def test_a_lora_rewritten_in_place_is_read_again_before_it_is_applied(node_classes: dict[str, Any],
                                                                       comfy_folders: Path) -> None:
    """A folder's mtime shows files added or removed, not a file rewritten in place: the LoRA Recommender checks
    the files it is about to apply and reads a changed one again (here its sidecar's trigger word)."""
    import os
    import shutil

    import folder_paths

    loras = comfy_folders / "loras"
    shutil.copytree(ensure_tiny_models() / "loras", loras)
    sidecar = loras / "cat_ears_sd15.civitai.info"
    sidecar.write_text(json.dumps({"baseModel": "SD 1.5", "trainedWords": ["cat ears"],
                                   "model": {"name": "Cat Ears", "type": "LORA", "tags": ["cat ears"]}}))
    folder = os.stat(loras)
    os.utime(loras, ns=(folder.st_atime_ns, folder.st_mtime_ns - 3_600_000_000_000))  # an old folder
    folder_paths.folder_names_and_paths["loras"] = ([str(loras)], folder_paths.folder_names_and_paths["loras"][1])
    analysis, _, _ = node_classes["IntelligentPromptAnalyzer"].execute("anime girl with cat ears", "",
                                                                       use_ollama=False).args
    out = node_classes["IntelligentAutoModelSelect"].execute(analysis, "auto").args
    model, clip, selection = out[0], out[1], out[3]
    recommend = node_classes["IntelligentLoRARecommender"]
    first = recommend.execute(model, clip, analysis, selection, 3, 1.0).args
    assert "cat_ears_sd15.safetensors" in [lo["name"] for lo in first[4]["loras"]]
    sidecar.write_text(json.dumps({"baseModel": "SD 1.5", "trainedWords": ["nekomimi"],
                                   "model": {"name": "Cat Ears", "type": "LORA", "tags": ["cat ears"]}}))
    assert os.stat(loras).st_mtime_ns == folder.st_mtime_ns - 3_600_000_000_000  # the folder shows nothing
    again = recommend.execute(model, clip, analysis, selection, 3, 1.0).args
    assert "nekomimi" in again[5]  # the prompt the sampler sees has the new trigger word
