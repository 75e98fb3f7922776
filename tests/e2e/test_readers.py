"""Images saved by a real ComfyUI, read by the tools people use: none of these readers was written here.

sd-parsers and sd-prompt-reader (PyPI), piexif as A1111's PNG Info calls it, Debian's exiftool, and
CivitAI's rule for `Hashes`. Each must get back the prompt, negative prompt, seed, steps, sampler, size,
model hash and every LoRA with its hash and weight, from PNG, JPEG and WebP alike.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import piexif
import piexif.helper
import pytest
from comfy_server import ComfyServer
from PIL import Image
from sd_parsers import ParserManager
from sd_prompt_reader.image_data_reader import ImageDataReader
from test_save import core_graph, file_hashes, run_with_workflow, saved_by_node

PROMPT, NEGATIVE = "anime fox, cat ears: dusk", "lowres"
LORAS = {"cat_ears_sd15": 0.8, "detail_tweaker_sd15": 0.45}
# A1111's own expressions (modules/infotext_utils.py and modules/extra_networks.py).
A1111_PARAM = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
A1111_EXTRA_NET = re.compile(r"<(\w+):([^>]+)>")


@pytest.fixture(scope="module")
def saved(server: ComfyServer) -> dict[str, Any]:
    """One generation with two LoRAs, saved as PNG, JPEG and WebP by Save With Metadata."""
    graph = core_graph(seed=11)
    graph["20"] = {"class_type": "LoraLoader", "inputs": {"model": ["2", 0], "clip": ["2", 1],
                   "lora_name": "detail_tweaker_sd15.safetensors", "strength_model": 0.45, "strength_clip": 0.45}}
    for node in ("3", "4"):
        graph[node]["inputs"]["clip"] = ["20", 1]
    graph["6"]["inputs"]["model"] = ["20", 0]
    files = saved_by_node(server, run_with_workflow(server, graph))
    models = server.base / "models"
    return {
        "files": {"png": files["10"], "jpeg": files["11"], "webp": files["12"]},
        "model_hash": file_hashes(models / "checkpoints" / "tiny_anime_mix_v2.safetensors")[0][:10],
        "lora_hashes": {name: file_hashes(models / "loras" / f"{name}.safetensors")[1] for name in LORAS},
    }


FORMATS = ["png", "jpeg", "webp"]


def a1111_geninfo(path: Path) -> str:
    """A1111's PNG Info (modules/images.py, read_info_from_image): PNG text, else EXIF UserComment via piexif."""
    with Image.open(path) as image:
        items = dict(image.info or {})
    geninfo = items.pop("parameters", None)
    if "exif" in items:
        exif = piexif.load(items.pop("exif"))
        comment = (exif or {}).get("Exif", {}).get(piexif.ExifIFD.UserComment, b"")
        comment = piexif.helper.UserComment.load(comment)  # raises on a UserComment of the wrong type
        if comment:
            geninfo = comment
    assert isinstance(geninfo, str)
    return geninfo


def a1111_parse(text: str) -> tuple[str, str, dict[str, str]]:
    """A1111's parse_generation_parameters, cut to what this test reads."""
    *lines, last = text.strip().split("\n")
    prompt, _, negative = "\n".join(lines).partition("\nNegative prompt: ")
    settings = {k: json.loads(v) if v[:1] == '"' == v[-1:] else v for k, v in A1111_PARAM.findall(last)}
    return prompt, negative, settings


def civitai_hashes(text: str) -> dict[str, str]:
    """CivitAI's rule (src/utils/metadata/automatic.metadata.ts in its repository): after `, Hashes: `, the
    balanced `{...}` is JSON.parse'd; when that throws, the upload keeps no generation metadata at all."""
    start = text.index(", Hashes: ") + len(", Hashes: ")
    assert text[start] == "{", "CivitAI needs the object bare"
    depth = 0
    for end in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[end], 0)
        if depth == 0:
            break
    found = json.loads(text[start:end + 1])
    assert isinstance(found, dict)
    return found


def expected_hashes(saved: dict[str, Any]) -> dict[str, str]:
    return {"model": saved["model_hash"], **{f"lora:{n}": h for n, h in saved["lora_hashes"].items()}}


def weights_in(prompt: str) -> dict[str, float]:
    """LoRA weights the way A1111 restores them on paste: from `<lora:name:weight>` in the prompt."""
    return {args.split(":")[0]: float(args.split(":")[1]) for kind, args in A1111_EXTRA_NET.findall(prompt)
            if kind == "lora"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_a1111_png_info_reads_every_format(saved: dict[str, Any], fmt: str) -> None:
    prompt, negative, s = a1111_parse(a1111_geninfo(saved["files"][fmt]))
    assert A1111_EXTRA_NET.sub("", prompt).rstrip(", ") == PROMPT and negative == NEGATIVE
    assert weights_in(prompt) == LORAS
    assert (s["Seed"], s["Steps"], s["Sampler"], s["Size"], s["Model hash"]) == (
        "11", "3", "DPM++ 2M", "64x64", saved["model_hash"])
    assert s["Lora hashes"] == ", ".join(f"{n}: {h}" for n, h in saved["lora_hashes"].items())


@pytest.mark.parametrize("fmt", FORMATS)
def test_civitai_links_every_resource_by_its_hash(saved: dict[str, Any], fmt: str) -> None:
    assert civitai_hashes(a1111_geninfo(saved["files"][fmt])) == expected_hashes(saved)


@pytest.mark.parametrize("fmt", FORMATS)
def test_sd_parsers_reads_every_format(saved: dict[str, Any], fmt: str) -> None:
    info = ParserManager().parse(str(saved["files"][fmt]))
    assert info is not None
    sampler = info.samplers[0]
    assert info.full_negative_prompt == NEGATIVE and weights_in(info.full_prompt) == LORAS
    assert A1111_EXTRA_NET.sub("", info.full_prompt).rstrip(", ") == PROMPT
    assert sampler.name == "DPM++ 2M" and sampler.model is not None and sampler.model.hash == saved["model_hash"]
    assert (sampler.parameters["seed"], sampler.parameters["steps"]) == ("11", "3")
    assert info.metadata["Size"] == "64x64" and info.metadata["Hashes"] == expected_hashes(saved)


@pytest.mark.parametrize("fmt", FORMATS)
def test_sd_prompt_reader_reads_every_format(saved: dict[str, Any], fmt: str) -> None:
    reader = ImageDataReader(str(saved["files"][fmt]))
    assert reader.negative == NEGATIVE and weights_in(reader.positive) == LORAS
    assert A1111_EXTRA_NET.sub("", reader.positive).rstrip(", ") == PROMPT
    p = reader.parameter
    assert (p["seed"], p["steps"], p["sampler"], p["size"]) == ("11", "3", "DPM++ 2M", "64x64")
    assert saved["model_hash"] in reader.raw and all(h in reader.raw for h in saved["lora_hashes"].values())


@pytest.mark.parametrize("fmt", FORMATS)
def test_exiftool_reads_every_format_without_warnings(saved: dict[str, Any], fmt: str) -> None:
    exiftool = shutil.which("exiftool")
    assert exiftool, "make setup installs Debian's exiftool (libimage-exiftool-perl)"
    out = subprocess.run([exiftool, "-j", str(saved["files"][fmt])], capture_output=True, text=True, check=True)
    tags = json.loads(out.stdout)[0]
    assert "Warning" not in tags, tags.get("Warning")
    text = tags["Parameters"] if fmt == "png" else tags["UserComment"]
    prompt, negative, s = a1111_parse(text)
    assert weights_in(prompt) == LORAS and negative == NEGATIVE and s["Seed"] == "11"
    assert civitai_hashes(text) == expected_hashes(saved)
