"""Save With Metadata and Load Generation Metadata inside ComfyUI's Python, with its real loaders and sampler."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from services.records.image_file import RECORD_KEY, read_metadata
from services.text.lora_tags import lora_tags

CKPT, LORA = "tiny_anime_mix_v2.safetensors", "cat_ears_sd15.safetensors"
SETTINGS = {"seed": 11, "steps": 3, "cfg": 5.0, "sampler": "dpmpp_2m", "scheduler": "karras", "width": 64, "height": 64}


def api_graph(prompt: str, negative: str, s: dict[str, Any], ckpt: str, lora: str, weight: float,
              batch: int = 1) -> dict[str, Any]:
    """The API-format prompt ComfyUI would hand the save node for the graph `generate` runs."""
    return {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": ckpt}},
        "2": {"class_type": "LoraLoader", "inputs": {"model": ["1", 0], "clip": ["1", 1], "lora_name": lora,
              "strength_model": weight, "strength_clip": weight}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["2", 1], "text": prompt}},
        "4": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["2", 1], "text": negative}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": s["width"], "height": s["height"],
              "batch_size": batch}},
        "6": {"class_type": "KSampler", "inputs": {"model": ["2", 0], "positive": ["3", 0], "negative": ["4", 0],
              "latent_image": ["5", 0], "seed": s["seed"], "steps": s["steps"], "cfg": s["cfg"],
              "sampler_name": s["sampler"], "scheduler": s["scheduler"], "denoise": 1.0}},
        "7": {"class_type": "VAEDecode", "inputs": {"samples": ["6", 0], "vae": ["1", 2]}},
        "8": {"class_type": "IntelligentSaveWithMetadata", "inputs": {"images": ["7", 0]}},
    }


def generate(prompt: str, negative: str, s: dict[str, Any], ckpt: str, lora: str, weight: float, batch: int = 1) -> Any:
    import nodes
    import torch

    with torch.inference_mode():  # as ComfyUI's executor runs nodes
        model, clip, vae = nodes.CheckpointLoaderSimple().load_checkpoint(ckpt)
        model, clip = nodes.LoraLoader().load_lora(model, clip, lora, weight, weight)
        positive = nodes.CLIPTextEncode().encode(clip, prompt)[0]
        negative_c = nodes.CLIPTextEncode().encode(clip, negative)[0]
        latent = nodes.EmptyLatentImage().generate(s["width"], s["height"], batch)[0]
        samples = nodes.common_ksampler(model, s["seed"], s["steps"], s["cfg"], s["sampler"], s["scheduler"],
                                        positive, negative_c, latent)[0]
        return nodes.VAEDecode().decode(vae, samples)[0]


def saver(node_classes: dict[str, Any], graph: dict[str, Any] | None, workflow: dict[str, Any] | None = None) -> Any:
    from comfy_api.latest import io

    hidden = {io.Hidden.prompt: graph, io.Hidden.extra_pnginfo: {"workflow": workflow} if workflow else None,
              io.Hidden.unique_id: "8"}
    return node_classes["IntelligentSaveWithMetadata"].PREPARE_CLASS_CLONE(hidden)


def saved_paths(result: Any, output: Path) -> list[Path]:
    return [output / item["subfolder"] / item["filename"] for item in result.ui.as_dict()["images"]]


def test_loaded_metadata_reproduces_identical_pixels(node_classes: dict[str, Any], comfy_folders: Path) -> None:
    import torch

    prompt, negative = "anime fox, cat ears, forest: at dusk", "lowres"
    original = generate(prompt, negative, SETTINGS, CKPT, LORA, 0.8)
    save = saver(node_classes, api_graph(prompt, negative, SETTINGS, CKPT, LORA, 0.8))
    load = node_classes["IntelligentLoadGenerationMetadata"]
    for fmt in ("png", "jpeg", "webp"):
        (path,) = saved_paths(save.execute(original, None, "standard", "runs", True, fmt, 95), comfy_folders / "output")
        assert path.suffix == {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}[fmt]
        name = f"runs/{path.name} [output]"
        assert load.validate_inputs(name) is True
        out = load.execute(name).args
        p, n, seed, steps, cfg, sampler, scheduler, width, height, ckpt, loras, explanation, clip_layer, info = out
        assert (p, n, ckpt, clip_layer) == (prompt, negative, CKPT, -1)
        assert info["loras"] == [{"name": LORA, "weight": 0.8}] and info["parameters"]["seed"] == seed
        assert dict(zip(SETTINGS, (seed, steps, cfg, sampler, scheduler, width, height), strict=True)) == SETTINGS
        assert "(our record)" in explanation
        ((lora_stem, weight),) = lora_tags(loras)
        assert (lora_stem, weight) == ("cat_ears_sd15", 0.8)
        again = generate(p, n, dict(zip(SETTINGS, out[2:9], strict=True)), ckpt, lora_stem + ".safetensors", weight)
        assert torch.equal(again, original), f"{fmt}: the loaded settings gave different pixels"


def test_batch_images_are_told_apart(node_classes: dict[str, Any], comfy_folders: Path) -> None:
    images = generate("a fox", "", SETTINGS, CKPT, LORA, 0.5, batch=2)
    save = saver(node_classes, api_graph("a fox", "", SETTINGS, CKPT, LORA, 0.5, batch=2))
    paths = saved_paths(save.execute(images, None, "descriptive"), comfy_folders / "output")
    assert len(paths) == 2 and paths[0] != paths[1] and all("_a-fox_" in p.name for p in paths)
    records = [json.loads(read_metadata(p)[RECORD_KEY]) for p in paths]
    assert [r["settings"]["batch_index"] for r in records] == [0, 1]
    assert records[0]["generation_id"] != records[1]["generation_id"]
    explanation = node_classes["IntelligentLoadGenerationMetadata"].execute(f"{paths[1].name} [output]").args[11]
    assert "Image 2 of a batch of 2" in explanation


def test_privacy_switches_and_sidecar(node_classes: dict[str, Any], comfy_folders: Path) -> None:
    import torch

    images = torch.rand(1, 16, 16, 3)
    graph = api_graph("my secret prompt", "", SETTINGS, CKPT, LORA, 1.0)
    save = saver(node_classes, graph, workflow={"nodes": [{"widgets_values": ["my secret prompt"]}]})
    output = comfy_folders / "output"

    (full,) = saved_paths(save.execute(images, None, "guid", "", True, "png", sidecar=True), output)
    chunks = read_metadata(full)
    assert set(chunks) == {"prompt", "workflow", "parameters", RECORD_KEY}
    sidecar = full.with_suffix(".json")
    assert json.loads(sidecar.read_text()) == json.loads(chunks[RECORD_KEY])
    record = json.loads(chunks[RECORD_KEY])
    assert len(record["checkpoint"]["sha256"]) == 64 and record["checkpoint"]["base_model"]

    (no_workflow,) = saved_paths(save.execute(images, None, "guid", "", False), output)
    assert set(read_metadata(no_workflow)) == {"parameters", RECORD_KEY}

    (no_prompts,) = saved_paths(save.execute(images, None, "descriptive", "", True, "webp",
                                             include_prompts=False), output)
    text = json.dumps(read_metadata(no_prompts))
    assert "secret" not in text and "secret" not in no_prompts.name and "_image_" in no_prompts.name
    assert "Steps: 3" in text  # the settings stay

    (plain,) = saved_paths(save.execute(images, None, "standard", "", True, "jpeg", include_metadata=False), output)
    assert read_metadata(plain) == {}
    with Image.open(plain) as im:
        assert not im.getexif()


def test_custom_names_subfolders_and_refusals(node_classes: dict[str, Any], comfy_folders: Path) -> None:
    import torch

    save = saver(node_classes, api_graph("a fox", "", SETTINGS, CKPT, LORA, 1.0))
    images = torch.rand(2, 16, 16, 3)
    result = save.execute(images, None, "custom", "mine", True, "png", name_pattern="{model}/{seed}_{counter}")
    names = [f"{i['subfolder']}/{i['filename']}" for i in result.ui.as_dict()["images"]]
    assert names == ["mine/tiny_anime_mix_v2/11_00001.png", "mine/tiny_anime_mix_v2/11_00002.png"]
    assert result.ui.as_dict()["images"][0]["type"] == "output"
    assert "'..'" in save.validate_inputs("standard", "../outside")
    assert "absolute" in save.validate_inputs("standard", "/tmp")
    assert "Unknown token" in save.validate_inputs("custom", "", "{nope}")
    with pytest.raises(ValueError, match="must stay inside ComfyUI's output folder"):
        save.execute(images, None, "custom", "", True, name_pattern="../../{seed}")
    assert not list((comfy_folders / "output").rglob("*.part"))
    assert not (comfy_folders.parent / "11.png").exists()


def test_loader_reads_a1111_images_and_refuses_paths_outside(node_classes: dict[str, Any], comfy_folders: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import folder_paths

    monkeypatch.setattr(folder_paths, "input_directory", str(comfy_folders / "input"))
    (comfy_folders / "input").mkdir()
    load = node_classes["IntelligentLoadGenerationMetadata"]
    # What A1111 writes: parameters only, a model named by its stem, LoRAs as prompt tags.
    a1111 = ("a fox <lora:cat_ears_sd15:0.6>\nNegative prompt: blurry\nSteps: 12, Sampler: Euler a, Schedule type: "
             "Karras, CFG scale: 7, Seed: 99, Size: 64x96, Model hash: 0123456789, Model: tiny_photoreal_v1")
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("parameters", a1111)
    Image.new("RGB", (64, 96)).save(comfy_folders / "input" / "a1111.png", pnginfo=info)
    assert "a1111.png" in load.define_schema().inputs[0].options
    out = load.execute("a1111.png").args
    assert out[:11] == ("a fox", "blurry", 99, 12, 7.0, "euler_ancestral", "karras", 64, 96,
                        "tiny_photoreal_v1.safetensors", "<lora:cat_ears_sd15:0.6>")
    assert "(A1111 parameters)" in out[11] and "is tiny_photoreal_v1.safetensors here" in out[11]

    before = load.fingerprint_inputs("a1111.png")
    Image.new("RGB", (64, 96)).save(comfy_folders / "input" / "a1111.png", pnginfo=info, compress_level=1)
    assert load.fingerprint_inputs("a1111.png") != before

    (comfy_folders / "secret.png").write_bytes((comfy_folders / "input" / "a1111.png").read_bytes())
    assert load.validate_inputs("../secret.png") == "Invalid image file: ../secret.png"
    with pytest.raises(ValueError, match="no image file"):
        load.execute("../secret.png")
    Image.new("RGB", (8, 8)).save(comfy_folders / "input" / "plain.png")
    with pytest.raises(ValueError, match="carries no generation metadata"):
        load.execute("plain.png")


def test_loader_outputs_plug_into_core_nodes(node_classes: dict[str, Any]) -> None:
    import comfy.samplers
    import folder_paths

    outputs = {o.id: o for o in node_classes["IntelligentLoadGenerationMetadata"].define_schema().outputs}
    assert outputs["sampler_name"].options == comfy.samplers.KSampler.SAMPLERS
    assert outputs["scheduler"].options == comfy.samplers.KSampler.SCHEDULERS
    assert [outputs[k].io_type for k in ("seed", "steps", "cfg", "width", "height", "prompt")] == [
        "INT", "INT", "FLOAT", "INT", "INT", "STRING"]
    assert outputs["checkpoint"].options == folder_paths.get_filename_list("checkpoints")  # wires to ckpt_name
