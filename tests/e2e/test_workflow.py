"""The pack inside a real ComfyUI server, driven over its HTTP API."""

from __future__ import annotations

import copy
import getpass
import hashlib
import json
import socket
from typing import Any

import pytest
from comfy_server import ROOT, ComfyServer, load_api_workflow
from workflow_convert import to_api

from services.records.image_file import RECORD_KEY, read_metadata
from services.records.infotext import parse_infotext

NODE_IDS = {
    "IntelligentPromptAnalyzer": "Prompt Analyzer",
    "IntelligentAutoModelSelect": "Auto Model Select",
    "IntelligentLoRARecommender": "LoRA Recommender",
    "IntelligentMetadataFetcher": "Metadata Fetcher",
    "IntelligentSaveWithMetadata": "Save With Metadata",
}
UI_WORKFLOW = json.loads((ROOT / "example_workflows" / "intelligent_text_to_image.json").read_text())


def small(graph: dict[str, Any]) -> dict[str, Any]:
    """The tiny test models are noise generators: 64x64 keeps CPU runs to seconds; all else as recommended."""
    graph = copy.deepcopy(graph)
    for node in graph.values():
        if node["class_type"] == "EmptyLatentImage":
            node["inputs"]["width"] = node["inputs"]["height"] = 64
    return graph


def test_nodes_are_registered_with_typed_outputs(server: ComfyServer) -> None:
    info = server.get("/object_info")
    for node_id, name in NODE_IDS.items():
        assert info[node_id]["display_name"] == name
        assert info[node_id]["category"] == "Intelligent Generation"
    select = info["IntelligentAutoModelSelect"]
    assert select["output"][:6] == ["MODEL", "CLIP", "VAE", "IG_SELECTION", "INT", "FLOAT"]
    # sampler/scheduler outputs carry KSampler's option lists, so they connect to its combo inputs
    assert select["output"][6] == info["KSampler"]["input"]["required"]["sampler_name"][0]
    assert info["IntelligentSaveWithMetadata"]["output_node"] is True
    assert "broken_download.safetensors" in select["input"]["required"]["checkpoint"][1]["options"]


def test_template_is_listed_and_served(server: ComfyServer) -> None:
    templates = server.get("/api/workflow_templates")
    assert "intelligent_text_to_image" in templates["intelligent_generation"]
    served = server.get("/api/workflow_templates/intelligent_generation/intelligent_text_to_image.json")
    assert served == UI_WORKFLOW


def test_api_workflow_saves_image_with_full_metadata(server: ComfyServer) -> None:
    graph = small(load_api_workflow())
    entry = server.run_prompt(graph)
    (image,) = server.output_files(entry)
    assert image.is_file() and image.suffix == ".png"
    assert len(image.stem) == len("20260101_000000_0123abcd")
    chunks = read_metadata(image)
    embedded = json.loads(chunks["prompt"])
    for node in embedded.values():
        node.pop("is_changed", None)  # ComfyUI adds its fingerprints
    assert embedded == graph
    record = json.loads(chunks[RECORD_KEY])
    params = parse_infotext(chunks["parameters"])
    # The prompt is a realistic cat photo: the photoreal checkpoint and the SD 1.5 cat-ears LoRA fit.
    assert record["checkpoint"]["name"] == "tiny_photoreal_v1.safetensors"
    assert [lo["name"] for lo in record["loras"]] == ["cat_ears_sd15.safetensors", "detail_tweaker_sd15.safetensors"]
    assert params["settings"]["Model"] == "tiny_photoreal_v1"
    ckpt = server.base / "models" / "checkpoints" / "tiny_photoreal_v1.safetensors"
    assert params["settings"]["Model hash"] == hashlib.sha256(ckpt.read_bytes()).hexdigest()[:10]
    assert params["settings"]["Lora hashes"] == (
        f"cat_ears_sd15: {record['loras'][0]['autov3']}, detail_tweaker_sd15: {record['loras'][1]['autov3']}")
    assert params["settings"]["Seed"] == "42"
    assert params["settings"]["Size"] == "64x64"
    assert params["settings"]["Steps"] == str(record["settings"]["steps"]) == "30"  # recommended for realistic
    assert params["settings"]["Sampler"] == "DPM++ 2M"
    assert "cat ears" in params["prompt"]
    history_text = json.dumps(entry["outputs"])
    assert "Chose tiny_photoreal_v1.safetensors" in history_text  # explanations reach the UI
    assert "incompatible" not in history_text or "another base model" in history_text


def test_metadata_holds_no_private_paths(server: ComfyServer) -> None:
    entry = server.run_prompt(small(load_api_workflow()) | {"99": {"class_type": "PrimitiveInt", "inputs": {"value": 1}}})
    (image,) = server.output_files(entry)
    chunks = read_metadata(image)
    text = chunks["parameters"] + chunks[RECORD_KEY]
    for secret in (str(server.base), str(ROOT), "/tmp/", "/home/", "/root", getpass.getuser(), socket.gethostname()):
        assert secret not in text


def test_ui_workflow_runs_as_loaded(server: ComfyServer) -> None:
    """The bundled UI workflow, converted as the frontend would, is valid and runs."""
    graph = small(to_api(UI_WORKFLOW, server.get("/object_info")))
    assert graph["8"]["inputs"]["generation_info"] == ["4", 0]
    entry = server.run_prompt(graph)
    (image,) = server.output_files(entry)
    assert "Steps: 30" in read_metadata(image)["parameters"]


def test_core_graph_downstream_gets_metadata_too(server: ComfyServer) -> None:
    """Save With Metadata after plain core nodes: settings and hashes come from the graph itself."""
    graph = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny_anime_mix_v2.safetensors"}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["1", 1], "text": "anime fox, forest"}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["1", 1], "text": "ugly"}},
        "4": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 2}},
        "5": {"class_type": "KSampler", "inputs": {"model": ["1", 0], "positive": ["2", 0], "negative": ["3", 0],
              "latent_image": ["4", 0], "seed": 7, "steps": 3, "cfg": 5.5, "sampler_name": "euler",
              "scheduler": "normal", "denoise": 1.0}},
        "6": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}},
        "7": {"class_type": "IntelligentSaveWithMetadata", "inputs": {"images": ["6", 0], "filename_mode": "descriptive",
              "subfolder": "core", "include_workflow": True}},
    }
    entry = server.run_prompt(graph)
    images = server.output_files(entry)
    assert len(images) == 2 and images[0] != images[1]
    assert all(p.parent.name == "core" and "_anime-fox-forest_" in p.name for p in images)
    params = parse_infotext(read_metadata(images[0])["parameters"])
    assert params["prompt"] == "anime fox, forest" and params["negative_prompt"] == "ugly"
    s = params["settings"]
    assert (s["Steps"], s["CFG scale"], s["Seed"], s["Sampler"], s["Model"]) == ("3", "5.5", "7", "Euler", "tiny_anime_mix_v2")
    ckpt = server.base / "models" / "checkpoints" / "tiny_anime_mix_v2.safetensors"
    assert s["Model hash"] == hashlib.sha256(ckpt.read_bytes()).hexdigest()[:10]


def test_corrupt_checkpoint_gives_clear_error_and_server_lives(server: ComfyServer) -> None:
    graph = small(load_api_workflow())
    graph["2"]["inputs"]["checkpoint"] = "broken_download.safetensors"
    with pytest.raises(RuntimeError) as err:
        server.run_prompt(graph)
    message = str(err.value)
    assert "broken_download.safetensors" in message and "truncated" in message and "re-download" in message
    assert server.get("/system_stats")["system"]
    assert not list((server.base / "output").rglob("*.part"))


def test_unwritable_output_folder_fails_cleanly(server: ComfyServer) -> None:
    (server.base / "output" / "blocked").write_text("a file where a folder should be")
    graph = small(load_api_workflow())
    graph["8"]["inputs"]["subfolder"] = "blocked/images"
    with pytest.raises(RuntimeError, match="Cannot write into the output folder"):
        server.run_prompt(graph)
    assert not list((server.base / "output").rglob("*.part"))
    assert server.get("/system_stats")["system"]
