"""Downloading into a real ComfyUI from a loopback CivitAI: through the route and through the node; then
ComfyUI lists the file and the Model Library shows it with its metadata, never hashed again."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from comfy_server import ComfyServer
from fakes.civitai_server import FakeCivitai, civitai_model, version_for_file
from model_files import write_safetensors
from route_calls import call, post_with_events

from services.online import session as online

EVENT = "intelligent-generation.download-progress"
LORA_KEYS = {"lora_unet_input_blocks_1_1_transformer_blocks_0_attn2_to_k.lora_down.weight": [64, 768]}
CHECKPOINT_KEYS = {"model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": [320, 768]}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    src = tmp_path_factory.mktemp("src")
    return {"lora": write_safetensors(src / "l.safetensors", LORA_KEYS).read_bytes(),
            "checkpoint": write_safetensors(src / "c.safetensors", CHECKPOINT_KEYS).read_bytes()}


@pytest.fixture(scope="module")
def civitai(files: dict[str, bytes]) -> Iterator[FakeCivitai]:
    versions = [version_for_file(files["lora"], 8, 801, file_name="PixelSprites_v3.safetensors",
                                 model_name="Pixel Sprites", trained_words=["pixel sprite"]),
                version_for_file(files["checkpoint"], 9, 901, file_name="TinyPaint_v1.safetensors",
                                 model_name="Tiny Paint", model_type="Checkpoint")]
    models = {8: civitai_model(8, "Pixel Sprites", tags=["pixel art"]),
              9: civitai_model(9, "Tiny Paint", model_type="Checkpoint", tags=["painting"])}
    with FakeCivitai(versions, models, files={801: files["lora"], 901: files["checkpoint"]}) as fake:
        yield fake


@pytest.fixture(scope="module")
def comfy(tmp_path_factory: pytest.TempPathFactory, tiny_models: Path, civitai: FakeCivitai) -> Iterator[ComfyServer]:
    base = tmp_path_factory.mktemp("comfy_download")
    env = {online.CIVITAI_URL_ENV: civitai.url, online.HF_URL_ENV: civitai.url, "CIVITAI_API_KEY": ""}
    with ComfyServer(base, models=tiny_models, env=env) as server:
        yield server
    shutil.rmtree(base, ignore_errors=True)


def test_route_plans_then_downloads_and_comfyui_lists_the_file(comfy: ComfyServer, civitai: FakeCivitai,
                                                               files: dict[str, bytes]) -> None:
    name = "PixelSprites_v3.safetensors"
    target = {"source": "civitai", "civitai_version": 801, "kind": "loras"}
    status, plan = call(comfy, "POST", "/intelligent-generation/download", target)
    assert status == 200 and plan["status"] == "planned" and plan["file_name"] == name
    assert "Nothing was downloaded" in plan["explanation"] and civitai.by_path("/api/download/") == []
    assert name not in comfy.get("/object_info/LoraLoader")["LoraLoader"]["input"]["required"]["lora_name"][0]

    status, answer, events = post_with_events(comfy, "/intelligent-generation/download", {**target, "confirm": True},
                                              EVENT)
    sha = hashlib.sha256(files["lora"]).hexdigest()
    assert status == 200, answer
    assert answer["status"] == "downloaded" and answer["name"] == name and answer["sha256"] == sha
    assert answer["job"]["state"] == "done" and str(comfy.base) not in json.dumps(answer)
    assert events[0]["state"] == "running" and {e["job"] for e in events} == {answer["job_id"]}
    assert events[-1] == {"job": answer["job_id"], "state": "done", "name": name, "done": len(files["lora"]),
                          "total": len(files["lora"]), "error": None}
    assert (comfy.base / "models" / "loras" / name).read_bytes() == files["lora"]
    # ComfyUI rescans on its own (folder mtimes) and the pack's library lists it, hashed and looked up already.
    assert name in comfy.get("/object_info/LoraLoader")["LoraLoader"]["input"]["required"]["lora_name"][0]
    [entry] = [m for m in comfy.get("/intelligent-generation/library")["models"] if m["name"] == name]
    assert entry["sha256"] == sha and entry["base_model"] == "SD 1.5" and entry["trigger_words"] == ["pixel sprite"]
    assert entry["online"]["status"] == "found" and entry["online"]["sites"] == ["civitai"]
    job = comfy.get("/intelligent-generation/download")["job"]
    assert job["state"] == "done" and job["result"]["name"] == name


def test_route_refuses_bad_input_before_sending_anything(comfy: ComfyServer, civitai: FakeCivitai) -> None:
    civitai.requests.clear()
    for body in ({"source": "huggingface", "hf_repo": "../../etc", "hf_file": "passwd", "kind": "loras"},
                 {"source": "civitai", "civitai_version": "801; rm", "kind": "loras"},
                 {"source": "civitai", "civitai_version": 801, "kind": "custom_nodes"},
                 {"source": "civitai", "civitai_version": 801, "kind": "loras", "host": "https://evil.example"}):
        status, answer = call(comfy, "POST", "/intelligent-generation/download", {**body, "confirm": True})
        assert status == 400 and answer["error"], body
    status, answer = call(comfy, "POST", "/intelligent-generation/download/candidates",
                          {"concept": "portrait of my neighbour", "kind": "loras"})
    assert status == 400
    assert civitai.requests == []
    status, answer = call(comfy, "POST", "/intelligent-generation/download/candidates", {"concept": "pixel art", "kind": "loras"})
    assert status == 200 and [c["name"] for c in answer["candidates"]] == ["Pixel Sprites"]
    [search] = civitai.by_path("/api/v1/models")
    assert search.query["query"] == ["pixel art"]
    offered = comfy.get("/intelligent-generation/download/concepts")  # what the web UI offers to search for
    assert "pixel art" in offered["concepts"] and "anime" in offered["styles"]
    assert "portrait of my neighbour" not in offered["concepts"]


def test_the_node_downloads_a_checkpoint_that_comfyui_then_offers(comfy: ComfyServer, files: dict[str, bytes]) -> None:
    name = "TinyPaint_v1.safetensors"
    graph = {"1": {"class_type": "IntelligentDownloadModel",
                   "inputs": {"source": "civitai", "civitai_version_id": 901, "hf_repo": "", "hf_file": "",
                              "kind": "checkpoints", "confirm_download": True}}}
    entry = comfy.run_prompt(graph)
    [text] = entry["outputs"]["1"]["text"]
    assert text.startswith(f"Downloaded {name}") and "SHA-256 verified" in text
    assert (comfy.base / "models" / "checkpoints" / name).read_bytes() == files["checkpoint"]
    options = comfy.get("/object_info/CheckpointLoaderSimple")["CheckpointLoaderSimple"]["input"]["required"]
    assert name in options["ckpt_name"][0]
