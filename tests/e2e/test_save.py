"""Save With Metadata and Load Generation Metadata in a real ComfyUI server, over HTTP."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import struct
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from comfy_server import ROOT, ComfyServer, load_api_workflow

from services.records.image_file import RECORD_KEY, read_metadata
from services.records.infotext import parse_infotext

UI_WORKFLOW = json.loads((ROOT / "example_workflows" / "intelligent_text_to_image.json").read_text())
CKPT, LORA, WEIGHT = "tiny_anime_mix_v2.safetensors", "cat_ears_sd15.safetensors", 0.8


def core_graph(seed: int = 5) -> dict[str, Any]:
    return {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": CKPT}},
        "2": {"class_type": "LoraLoader", "inputs": {"model": ["1", 0], "clip": ["1", 1], "lora_name": LORA,
              "strength_model": WEIGHT, "strength_clip": WEIGHT}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["2", 1], "text": "anime fox, cat ears: dusk"}},
        "4": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["2", 1], "text": "lowres"}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64, "batch_size": 1}},
        "6": {"class_type": "KSampler", "inputs": {"model": ["2", 0], "positive": ["3", 0], "negative": ["4", 0],
              "latent_image": ["5", 0], "seed": seed, "steps": 3, "cfg": 6.0, "sampler_name": "dpmpp_2m",
              "scheduler": "karras", "denoise": 1.0}},
        "7": {"class_type": "VAEDecode", "inputs": {"samples": ["6", 0], "vae": ["1", 2]}},
        "10": {"class_type": "IntelligentSaveWithMetadata", "inputs": {"images": ["7", 0], "filename_mode": "standard",
               "subfolder": "e2e", "include_workflow": True}},
        "11": {"class_type": "IntelligentSaveWithMetadata", "inputs": {"images": ["7", 0], "filename_mode": "custom",
               "subfolder": "e2e", "include_workflow": True, "format": "jpeg", "quality": 95,
               "name_pattern": "{model}/{date}_{seed}_{counter}"}},
        "12": {"class_type": "IntelligentSaveWithMetadata", "inputs": {"images": ["7", 0], "filename_mode": "guid",
               "subfolder": "e2e", "include_workflow": True, "format": "webp", "quality": 100, "sidecar": True}},
    }


def run_with_workflow(server: ComfyServer, graph: dict[str, Any], timeout: float = 300) -> dict[str, Any]:
    """As the frontend queues: the UI workflow rides along in extra_pnginfo."""
    body = {"prompt": graph, "client_id": uuid.uuid4().hex, "extra_data": {"extra_pnginfo": {"workflow": UI_WORKFLOW}}}
    prompt_id = server.post("/prompt", body)["prompt_id"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        entry = server.get(f"/history/{prompt_id}").get(prompt_id)
        if entry and entry.get("status", {}).get("completed") is not None:
            assert entry["status"]["status_str"] == "success", entry["status"]
            return dict(entry)
        time.sleep(0.2)
    raise TimeoutError(prompt_id)


def upload(server: ComfyServer, path: Path) -> str:
    """POST /upload/image as the frontend's upload button does; the answer names the file in input/."""
    boundary = uuid.uuid4().hex
    name = f"{uuid.uuid4().hex[:8]}_{path.name}"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"{name}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(server.url + "/upload/image", data=body,
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=30) as r:
        answer = json.loads(r.read())
    return f"{answer['subfolder']}/{answer['name']}" if answer["subfolder"] else str(answer["name"])


def file_hashes(path: Path) -> tuple[str, str]:
    """SHA-256 of the file, and AutoV3: SHA-256 of what follows the safetensors header, first 12 hex."""
    data = path.read_bytes()
    (header_len,) = struct.unpack("<Q", data[:8])
    return hashlib.sha256(data).hexdigest(), hashlib.sha256(data[8 + header_len:]).hexdigest()[:12]


def pixels(path: Path) -> bytes:
    from PIL import Image

    with Image.open(path) as im:
        return im.convert("RGB").tobytes()


def saved_by_node(server: ComfyServer, entry: dict[str, Any]) -> dict[str, Path]:
    return {node: server.base / "output" / out["images"][0]["subfolder"] / out["images"][0]["filename"]
            for node, out in entry["outputs"].items() if out.get("images")}


def test_loader_is_registered_with_an_upload_widget(server: ComfyServer) -> None:
    info = server.get("/object_info")["IntelligentLoadGenerationMetadata"]
    assert info["display_name"] == "Load Generation Metadata" and info["category"] == "Intelligent Generation"
    assert info["input"]["required"]["image"][1]["image_upload"] is True
    assert info["output"][5] == server.get("/object_info/KSampler")["KSampler"]["input"]["required"]["sampler_name"][0]


def test_saved_files_carry_names_chunks_and_hashes_of_the_files_used(server: ComfyServer) -> None:
    graph = core_graph()
    files = saved_by_node(server, run_with_workflow(server, graph))
    png, jpeg, webp = files["10"], files["11"], files["12"]
    output = server.base / "output"
    assert re.fullmatch(r"e2e/\d{8}_\d{6}_[0-9a-f]{8}\.png", png.relative_to(output).as_posix())
    assert re.fullmatch(r"e2e/tiny_anime_mix_v2/\d{8}_5_\d{5}\.jpg", jpeg.relative_to(output).as_posix())
    assert re.fullmatch(r"e2e/[0-9a-f-]{36}\.webp", webp.relative_to(output).as_posix())
    assert webp.with_suffix(".json").is_file()
    sha, _ = file_hashes(server.base / "models" / "checkpoints" / CKPT)
    lora_sha, autov3 = file_hashes(server.base / "models" / "loras" / LORA)
    records = []
    for path in (png, jpeg, webp):
        chunks = read_metadata(path)
        assert set(chunks) == {"prompt", "workflow", "parameters", RECORD_KEY}, path.name
        embedded = json.loads(chunks["prompt"])
        for node in embedded.values():
            node.pop("is_changed", None)
        assert embedded == graph and json.loads(chunks["workflow"]) == UI_WORKFLOW
        params = parse_infotext(chunks["parameters"])
        s = params["settings"]
        assert params["prompt"] == f"anime fox, cat ears: dusk, <lora:cat_ears_sd15:{WEIGHT}>"
        assert params["negative_prompt"] == "lowres"
        assert (s["Steps"], s["Sampler"], s["Schedule type"], s["CFG scale"], s["Seed"], s["Size"]) == (
            "3", "DPM++ 2M", "Karras", "6.0", "5", "64x64")
        assert s["Model"] == "tiny_anime_mix_v2" and s["Model hash"] == sha[:10]
        assert s["Lora hashes"] == f"cat_ears_sd15: {autov3}"
        assert s["Hashes"] == {"model": sha[:10], "lora:cat_ears_sd15": autov3}
        record = json.loads(chunks[RECORD_KEY])
        assert record["checkpoint"]["sha256"] == sha and record["loras"][0]["sha256"] == lora_sha
        assert record["loras"][0]["weight"] == WEIGHT and record["settings"]["seed"] == 5
        records.append(record)
    assert len({r["generation_id"] for r in records}) == 3
    created = records[0]["created_utc"]  # the name's UTC time is the record's
    assert png.name.startswith(f"{created[0:4]}{created[5:7]}{created[8:10]}_{created[11:13]}{created[14:16]}{created[17:19]}_")
    assert json.loads(webp.with_suffix(".json").read_text()) == records[2]


@pytest.mark.parametrize("inputs, message", [
    ({"subfolder": "../escape"}, "'..'"),
    ({"subfolder": "/tmp/abs"}, "absolute"),
    ({"filename_mode": "custom", "name_pattern": "../../{seed}"}, "'..'"),
])
def test_escaping_the_output_folder_is_refused_before_running(server: ComfyServer, inputs: dict[str, str],
                                                              message: str) -> None:
    graph = {k: v for k, v in core_graph().items() if k not in ("11", "12")}  # one output: the bad one
    graph["10"]["inputs"].update(inputs)
    with pytest.raises(RuntimeError, match="400") as err:
        server.run_prompt(graph)
    assert message in str(err.value)
    assert not list(server.base.glob("escape*")) and not list(server.base.rglob("*.part"))


def reproduction_graph(image: str, loras: list[tuple[str, float]]) -> dict[str, Any]:
    """A core graph fed by Load Generation Metadata; LoRAs are wired by hand (a LoraLoader each)."""
    graph: dict[str, Any] = {
        "1": {"class_type": "IntelligentLoadGenerationMetadata", "inputs": {"image": image}},
        "2": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": ["1", 9]}},
    }
    model, clip = ["2", 0], ["2", 1]
    for i, (name, weight) in enumerate(loras):
        graph[str(20 + i)] = {"class_type": "LoraLoader", "inputs": {"model": model, "clip": clip, "lora_name": name,
                              "strength_model": weight, "strength_clip": weight}}
        model, clip = [str(20 + i), 0], [str(20 + i), 1]
    return graph | {
        "4": {"class_type": "CLIPTextEncode", "inputs": {"clip": clip, "text": ["1", 0]}},
        "5": {"class_type": "CLIPTextEncode", "inputs": {"clip": clip, "text": ["1", 1]}},
        "6": {"class_type": "EmptyLatentImage", "inputs": {"width": ["1", 7], "height": ["1", 8], "batch_size": 1}},
        "7": {"class_type": "KSampler", "inputs": {"model": model, "positive": ["4", 0], "negative": ["5", 0],
              "latent_image": ["6", 0], "seed": ["1", 2], "steps": ["1", 3], "cfg": ["1", 4],
              "sampler_name": ["1", 5], "scheduler": ["1", 6], "denoise": 1.0}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["7", 0], "vae": ["2", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0], "filename_prefix": "repro"}},
    }


def test_load_generation_metadata_reproduces_identical_pixels(server: ComfyServer) -> None:
    """From an uploaded JPEG (metadata in EXIF), the loaded settings give the PNG original's pixels.

    PNG and WebP are reproduced the same way in tests/comfy/test_save_load.py.
    """
    files = saved_by_node(server, run_with_workflow(server, core_graph(seed=77)))
    entry = server.run_prompt(reproduction_graph(upload(server, files["11"]), [(LORA, WEIGHT)]))
    (again,) = server.output_files(entry)
    assert pixels(again) == pixels(files["10"])
    assert "seed: 77 (our record)" in " ".join(entry["outputs"]["1"]["text"])


def test_the_bundled_reproduce_workflow_regenerates_the_packs_own_images(server: ComfyServer) -> None:
    """example_workflows/reproduce_from_image: LoRAs through Apply LoRA Tags, clip skip through core nodes."""
    graph = copy.deepcopy(load_api_workflow())
    for node in graph.values():
        if node["class_type"] == "EmptyLatentImage":
            node["inputs"]["width"] = node["inputs"]["height"] = 64
        if node["class_type"] == "KSampler":
            node["inputs"]["seed"], node["inputs"]["steps"] = 4242, 4  # a set value wins over the recommended one
    (image,) = server.output_files(server.run_prompt(graph))
    record = json.loads(read_metadata(image)[RECORD_KEY])
    assert record["loras"]  # the cat prompt gets LoRAs, so the test covers them
    reproduce = load_api_workflow("reproduce_from_image")
    reproduce["1"]["inputs"]["image"] = upload(server, image)
    entry = server.run_prompt(reproduce)
    (again,) = server.output_files(entry)
    assert pixels(again) == pixels(image)
    applied = entry["outputs"]["4"]["text"][0]
    assert all(f"LoRA {lora['name']} at {lora['weight']:g}" in applied for lora in record["loras"]), applied
    # The reproduction's own record names the same generation, though its graph only links the values.
    copy_record = json.loads(read_metadata(again)[RECORD_KEY])
    assert (copy_record["prompt"], copy_record["negative_prompt"]) == (record["prompt"], record["negative_prompt"])
    sampling = ("seed", "steps", "cfg", "sampler", "scheduler", "width", "height")
    assert {k: copy_record["settings"][k] for k in sampling} == {k: record["settings"][k] for k in sampling}
    assert copy_record["checkpoint"]["sha256"] == record["checkpoint"]["sha256"]
    assert [(lo["name"], lo["weight"], lo["sha256"]) for lo in copy_record["loras"]] == \
        [(lo["name"], lo["weight"], lo["sha256"]) for lo in record["loras"]]
