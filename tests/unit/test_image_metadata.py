"""Saving and reading generation metadata: formats, names, A1111's grammar, atomic writes."""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import subprocess
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from services.library.hashing import FileHashes
from services.records.generation import build_record, fill_hashes, for_image, infotext_for, settings_from_graph
from services.records.image_file import (
    EXIF_LIMIT,
    FORMATS,
    RECORD_KEY,
    SaveError,
    png_chunks,
    read_metadata,
    read_user_comment,
    user_comment,
    write_image,
    write_json,
)
from services.records.infotext import build_infotext, comfy_sampler
from services.records.naming import (
    MODES,
    candidates,
    check_pattern,
    check_relative,
    make_name,
    safe_part,
    safe_subfolder,
)
from services.records.read_back import lora_tag_text, match_model, read_generation, resolve_lora_tags

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)

# A1111's own grammar (modules/infotext_utils.py, parse_generation_parameters): the settings line is the
# last line; it splits into `key: value` pairs by this expression; quoted values are JSON strings.
A1111_PARAM = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')


def a1111_parse(text: str) -> tuple[str, str, dict[str, str]]:
    *lines, lastline = text.strip().split("\n")
    if len(A1111_PARAM.findall(lastline)) < 3:
        lines.append(lastline)
        lastline = ""
    prompt, negative, done_with_prompt = "", "", False
    for line in lines:
        line = line.strip()
        if line.startswith("Negative prompt:"):
            done_with_prompt = True
            line = line[16:].strip()
        if done_with_prompt:
            negative += ("" if negative == "" else "\n") + line
        else:
            prompt += ("" if prompt == "" else "\n") + line
    settings = {}
    for key, value in A1111_PARAM.findall(lastline):
        if value and value[0] == '"' and value[-1] == '"':
            value = json.loads(value)
        settings[key] = value
    return prompt, negative, settings


def core_graph(prompt: str = "anime fox, forest", ckpt: str = "sd15/animeMix_v2.safetensors") -> dict[str, Any]:
    return {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": ckpt}},
        "8": {"class_type": "LoraLoader", "inputs": {"model": ["1", 0], "clip": ["1", 1], "lora_name": "catEars.safetensors",
              "strength_model": 0.7, "strength_clip": 0.6}},
        "9": {"class_type": "CLIPSetLastLayer", "inputs": {"clip": ["8", 1], "stop_at_clip_layer": -2}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["9", 0], "text": prompt}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["9", 0], "text": "ugly"}},
        "4": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 96, "batch_size": 1}},
        "5": {"class_type": "KSampler", "inputs": {"model": ["8", 0], "positive": ["2", 0], "negative": ["3", 0],
              "latent_image": ["4", 0], "seed": 7, "steps": 3, "cfg": 5.5, "sampler_name": "dpmpp_2m",
              "scheduler": "karras", "denoise": 1.0}},
        "6": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}},
        "7": {"class_type": "IntelligentSaveWithMetadata", "inputs": {"images": ["6", 0]}},
    }


def fake_hashes(kind: str, name: str) -> FileHashes:
    return FileHashes(("a" if kind == "checkpoints" else "b") * 64, "c" * 12)


def record_of(graph: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    record = build_record(graph, None, 64, 96, output_node="7", **kwargs)
    fill_hashes(record, fake_hashes, lambda kind, name: "SD 1.5")
    return record


# --- the record -------------------------------------------------------------------------------------

def test_record_follows_the_graph_that_feeds_the_save_node() -> None:
    graph = core_graph()
    # A second branch the save node does not see: its sampler and LoRA must not leak in.
    graph["20"] = {"class_type": "LoraLoader", "inputs": {"model": ["1", 0], "clip": ["1", 1],
                   "lora_name": "other.safetensors", "strength_model": 1.0, "strength_clip": 1.0}}
    graph["10"] = {"class_type": "KSampler", "inputs": {"model": ["20", 0], "seed": 999, "steps": 50}}
    found = settings_from_graph(graph, "7")
    assert (found["seed"], found["steps"], found["sampler"], found["clip_skip"]) == (7, 3, "dpmpp_2m", 2)
    assert found["loras"] == [{"name": "catEars.safetensors", "weight": 0.7, "clip_weight": 0.6}]
    assert found["checkpoint"] == "sd15/animeMix_v2.safetensors"
    record = record_of(graph)
    assert record["checkpoint"] == {"name": "sd15/animeMix_v2.safetensors", "sha256": "a" * 64,
                                    "autov2": "a" * 10, "base_model": "SD 1.5"}
    assert record["loras"][0]["autov3"] == "c" * 12 and record["loras"][0]["base_model"] == "SD 1.5"
    assert uuid.UUID(record["generation_id"]).version == 4
    assert datetime.fromisoformat(record["created_utc"].replace("Z", "+00:00")).tzinfo == timezone.utc


def test_each_image_of_a_batch_gets_its_own_id_and_position() -> None:
    record = record_of(core_graph())
    first, second = for_image(record, 0, 2), for_image(record, 1, 2)
    assert first["generation_id"] != second["generation_id"]
    assert (second["settings"]["batch_index"], second["settings"]["batch_size"]) == (1, 2)
    assert "batch_index" not in record["settings"]


def test_records_hold_no_absolute_paths_and_prompts_can_be_left_out() -> None:
    graph = core_graph(ckpt="/home/someone/models/secret.safetensors")
    assert record_of(graph)["checkpoint"]["name"] == "secret.safetensors"
    windows = core_graph(ckpt="C:\\Users\\someone\\m.safetensors")
    assert record_of(windows)["checkpoint"]["name"] == "m.safetensors"
    info = {"analysis": {"concepts": ["fox"]}, "reasons": ["fox fits"], "positive_prompt": "a fox"}
    private = build_record(core_graph(), info, 64, 96, include_prompts=False, output_node="7")
    assert "prompt" not in private and "negative_prompt" not in private
    assert private["analysis"] is None and private["reasons"] == []
    assert "fox" not in json.dumps(private)


# --- A1111's parameters -----------------------------------------------------------------------------

def test_parameters_split_by_a1111_grammar_into_what_we_wrote() -> None:
    record = record_of(core_graph('a "quoted" fox, (detailed:1.2)\nsecond line'))
    record["checkpoint"]["name"] = "sd15/anime, v2: final.safetensors"  # comma and colon force quoting
    text = infotext_for(record)
    prompt, negative, settings = a1111_parse(text)
    # The prompt keeps its words; A1111 restores the LoRA from the tag after them.
    assert prompt == 'a "quoted" fox, (detailed:1.2)\nsecond line, <lora:catEars:0.7>' and negative == "ugly"
    # `Hashes` is a bare JSON object (CivitAI's rule: tests/unit/test_readers.py); A1111's expression splits
    # it at its commas, as it does for CivitAI's own extension's images, and shows the pieces.
    hashes_at = text.index(", Hashes: ") + len(", Hashes: ")
    assert json.JSONDecoder().raw_decode(text, hashes_at)[0] == {"model": "a" * 10, "lora:catEars": "c" * 12}
    assert {k: v for k, v in settings.items() if k not in ("Hashes", "lora")} == {
        "Steps": "3", "Sampler": "DPM++ 2M", "Schedule type": "Karras", "CFG scale": "5.5", "Seed": "7",
        "Size": "64x96", "Model hash": "a" * 10, "Model": "anime, v2: final", "Clip skip": "2",
        "Lora hashes": "catEars: " + "c" * 12,
        "Version": f"intelligent-generation {record['pack_version']}",
    }
    assert text.split("\n")[-1].startswith("Steps: 3, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 5.5")


def test_a1111_names_map_back_to_comfyui() -> None:
    assert comfy_sampler("DPM++ 2M", "Karras") == ("dpmpp_2m", "karras")
    assert comfy_sampler("DPM++ 2M Karras", None) == ("dpmpp_2m", "karras")  # A1111 before 1.9
    assert comfy_sampler("Euler a", "Automatic") == ("euler_ancestral", "normal")
    assert comfy_sampler("Restart", None) == ("Restart", None)  # unknown: left for the node to judge


# --- formats and round trips ------------------------------------------------------------------------

def chunks_for(record: dict[str, Any], graph: dict[str, Any]) -> dict[str, str]:
    return png_chunks(record, infotext_for(record), graph, {"workflow": {"nodes": [{"id": 1}], "version": 0.4}})


def decoded(chunks: dict[str, str]) -> dict[str, Any]:
    return {k: v if k == "parameters" else json.loads(v) for k, v in chunks.items()}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("mode", MODES)
def test_every_format_and_naming_mode_round_trips(tmp_path: Path, fmt: str, mode: str) -> None:
    graph = core_graph("Ünïcode fox 漢字, forest")
    record = for_image(record_of(graph), 0, 1)
    chunks = chunks_for(record, graph)
    stem = next(candidates(mode, tmp_path, record["prompt"], NOW, "{model}/{seed}_{slug}_{counter}", 7,
                           record["checkpoint"]["name"]))
    path = write_image(Image.new("RGB", (64, 96), (200, 30, 10)), tmp_path, stem, chunks, fmt, quality=95)
    expected_name = {
        "standard": r"20260102_030405_[0-9a-f]{8}", "descriptive": r"20260102_030405_unicode-fox-forest_[0-9a-f]{8}",
        "guid": r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
        "custom": r"animeMix_v2/7_unicode-fox-forest_00001"}[mode]
    assert re.fullmatch(expected_name + r"\.(png|jpg|webp)", path.relative_to(tmp_path).as_posix())
    back = read_metadata(path)
    assert decoded(back) == decoded(chunks)
    saved = read_generation(back)
    assert saved.values["prompt"] == "Ünïcode fox 漢字, forest" and saved.values["seed"] == 7
    assert saved.values["loras"] == [{"name": "catEars.safetensors", "weight": 0.7}]
    with Image.open(path) as im:
        assert im.size == (64, 96) and im.format == {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}[fmt]


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_exif_is_laid_out_as_a1111_and_comfyui_read_it(tmp_path: Path, fmt: str) -> None:
    graph = core_graph()
    record = for_image(record_of(graph), 0, 1)
    path = write_image(Image.new("RGB", (8, 8)), tmp_path, "x", chunks_for(record, graph), fmt)
    with Image.open(path) as im:
        exif = im.getexif()
        comment = exif.get_ifd(0x8769)[0x9286]
    # piexif's UserComment.dump(text, encoding="unicode"), which A1111 uses: a prefix, then UTF-16BE
    assert comment == b"UNICODE\0" + infotext_for(record).encode("utf-16-be")
    # ComfyUI's frontend reads every `key:value` text tag of the first IFD; Model stays free for sd-prompt-reader.
    assert exif[0x010D].startswith("prompt:{") and exif[0x010F].startswith("workflow:{") and 0x0110 not in exif
    assert json.loads(exif[0x010E].partition(":")[2]) == record


def test_user_comment_reads_both_byte_orders() -> None:
    text = "a cat, 漢字\nSteps: 3"
    assert read_user_comment(user_comment(text)) == text
    assert read_user_comment(b"UNICODE\0" + text.encode("utf-16-le")) == text
    assert read_user_comment(b"ASCII\0\0\0plain") == "plain"


def test_jpeg_exif_over_64_kib_drops_the_workflow_first(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    graph = core_graph()
    record = for_image(record_of(graph), 0, 1)
    chunks = png_chunks(record, infotext_for(record), graph, {"workflow": {"notes": "x" * 70_000}})
    with caplog.at_level(logging.WARNING):
        path = write_image(Image.new("RGB", (8, 8)), tmp_path, "big", chunks, "jpeg")
    back = read_metadata(path)
    assert "workflow" not in back and set(back) == {"prompt", "parameters", RECORD_KEY}
    assert json.loads(back[RECORD_KEY]) == record
    assert "workflow left out" in caplog.text
    with Image.open(path) as im:
        assert len(im.info["exif"]) <= EXIF_LIMIT
    # A record too big as well: its analysis goes next, then the record, never the A1111 text.
    record["analysis"] = {"notes": "y" * 70_000}
    chunks = png_chunks(record, infotext_for(record), graph, {"workflow": {"notes": "x" * 70_000}})
    back = read_metadata(write_image(Image.new("RGB", (8, 8)), tmp_path, "bigger", chunks, "jpeg"))
    assert json.loads(back[RECORD_KEY])["left_out"] == ["analysis"]
    assert back["parameters"] == infotext_for(record)
    # An A1111 text too big on its own (a 40,000-character prompt in UTF-16): a plain JPEG, and a warning.
    record["prompt"] = "z" * 40_000
    back = read_metadata(write_image(Image.new("RGB", (8, 8)), tmp_path, "huge", png_chunks(
        record, infotext_for(record), None, None), "jpeg"))
    assert back == {} and "parameters left out of huge.jpg" in caplog.text
    # WebP has no such limit: everything stays.
    back = read_metadata(write_image(Image.new("RGB", (8, 8)), tmp_path, "big", chunks, "webp"))
    assert decoded(back) == decoded(chunks)


# --- atomic writes ----------------------------------------------------------------------------------

def leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_existing_files_are_never_replaced(tmp_path: Path) -> None:
    first = write_image(Image.new("RGB", (8, 8), (255, 0, 0)), tmp_path, "same", {}, "png")
    before = first.read_bytes()
    with pytest.raises(FileExistsError):
        write_image(Image.new("RGB", (8, 8), (0, 0, 255)), tmp_path, "same", {}, "png")
    assert first.read_bytes() == before and leftovers(tmp_path) == [first]


def test_file_systems_without_hard_links_still_never_overwrite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(src: Any, dst: Any) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")  # what FAT answers

    monkeypatch.setattr(os, "link", no_links)
    first = write_image(Image.new("RGB", (8, 8)), tmp_path, "fat", {}, "png")
    with pytest.raises(FileExistsError):
        write_image(Image.new("RGB", (8, 8), (1, 2, 3)), tmp_path, "fat", {}, "png")
    assert leftovers(tmp_path) == [first]


def test_saved_files_get_the_usual_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        path = write_image(Image.new("RGB", (8, 8)), tmp_path, "mode", {}, "png")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644  # as SaveImage's files, readable by others


def test_full_disk_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    image = Image.new("RGB", (64, 64))
    real_save = Image.Image.save

    def save_until_full(self: Image.Image, fp: Any, *args: Any, **kwargs: Any) -> None:
        real_save(self, fp, *args, **kwargs)  # the bytes are half on disk when the disk fills up
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Image.Image, "save", save_until_full)
    with pytest.raises(SaveError, match="No space left on device.*Nothing was written"):
        write_image(image, tmp_path, "full", {"parameters": "x"}, "png")
    assert leftovers(tmp_path) == []


def test_unwritable_folder_gives_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "blocked").write_text("a file where a folder should be")
    with pytest.raises(SaveError, match="Cannot write into the output folder 'images'"):
        write_image(Image.new("RGB", (8, 8)), tmp_path / "blocked", "images/x", {}, "png")
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(SaveError, match="Cannot write into the output folder 'locked'"):
            write_json(locked, "x", {})
        assert list(locked.iterdir()) == []


# --- names ------------------------------------------------------------------------------------------

def test_custom_pattern_tokens_and_subfolders() -> None:
    guid = uuid.UUID("12345678-1234-4234-8234-123456789abc")
    name = make_name("custom", "A fox <lora:x:1>", NOW, guid, "{date:%Y-%m}/{date}_{time}_{guid:8}_{seed}_{model}_{slug}",
                     seed=42, model="sd15/realVision_v5.safetensors")
    assert name == "2026-01/20260102_030405_12345678_42_realVision_v5_a-fox"
    assert make_name("custom", "", NOW, guid, "{guid}") == str(guid)
    assert make_name("custom", "", NOW, guid, "run {seed}/img_{counter}") == "run noseed/img_{counter}"


def test_counter_continues_after_existing_files(tmp_path: Path) -> None:
    (tmp_path / "renders").mkdir()
    for name in ("fox_00001.png", "fox_00007.jpg", "fox_00003.json", "wolf_00050.png"):
        (tmp_path / "renders" / name).write_bytes(b"")
    names = candidates("custom", tmp_path, pattern="renders/fox_{counter}")
    assert [next(names) for _ in range(2)] == ["renders/fox_00008", "renders/fox_00009"]


def test_names_without_counter_or_guid_still_never_collide(tmp_path: Path) -> None:
    names = candidates("custom", tmp_path, "a fox", NOW, "{date}_{slug}")
    first, second, third = next(names), next(names), next(names)
    assert first == "20260102_a-fox"
    assert re.fullmatch(r"20260102_a-fox_[0-9a-f]{8}", second) and second != third


def test_names_are_safe_on_every_os() -> None:
    for text in ('con', 'CON.txt', 'a<b>c:d"e|f?g*h', ' trailing. ', '.hidden', 'ñandú 漢字', "x" * 300):
        part = safe_part(text)
        assert re.fullmatch(r"[A-Za-z0-9 _.\-]+", part) and len(part) <= 120
        assert not part.endswith((".", " ")) and not part.startswith(".")
        assert part.split(".")[0].lower() not in {"con", "prn", "aux", "nul", "com1", "lpt1"}
    assert safe_subfolder("a\\b/./c") == "a/b/c"


@pytest.mark.parametrize("bad", ["../x", "a/../../x", "/etc/x", "\\\\server\\share", "C:\\x", "c:x"])
def test_paths_escaping_the_output_folder_are_refused(bad: str) -> None:
    assert check_relative(bad, "Subfolder")
    assert check_pattern(bad + "_{counter}")


def test_bad_patterns_are_explained() -> None:
    assert "Unknown token {nope}" in (check_pattern("{nope}") or "")
    assert "file name" in (check_pattern("{counter}/x") or "")
    assert "no file name" in (check_pattern("folder/") or "")
    assert check_pattern("{date:%Y/%m}/{seed}_{counter}") is None
    assert "'..'" in (check_pattern("{date:..}/x") or "")


# --- reading ----------------------------------------------------------------------------------------

def test_reading_prefers_our_record_then_parameters_then_the_graph(tmp_path: Path) -> None:
    graph = core_graph()
    record = for_image(record_of(graph), 0, 1)
    chunks = chunks_for(record, graph)
    chunks[RECORD_KEY] = json.dumps({**record, "settings": {**record["settings"], "seed": 1}})
    chunks["parameters"] = chunks["parameters"].replace("Seed: 7", "Seed: 2").replace("Steps: 3", "Steps: 9")
    saved = read_generation(chunks)
    assert saved.values["seed"] == 1 and saved.sources["seed"] == "record"
    without_record = read_generation({k: v for k, v in chunks.items() if k != RECORD_KEY})
    assert without_record.values["seed"] == 2 and without_record.values["steps"] == 9
    assert without_record.values["sampler"] == "dpmpp_2m" and without_record.values["checkpoint"] == "animeMix_v2"
    graph_only = read_generation({"prompt": chunks["prompt"]})
    assert graph_only.values["seed"] == 7 and graph_only.sources["seed"] == "graph"
    assert graph_only.values["prompt"] == "anime fox, forest"


def test_a_damaged_record_leaves_the_other_sources(tmp_path: Path) -> None:
    graph = core_graph()
    chunks = chunks_for(for_image(record_of(graph), 0, 1), graph)
    for damaged in ("{not json", "[1, 2]", '{"settings": 3}'):
        saved = read_generation({**chunks, RECORD_KEY: damaged})
        assert saved.values["seed"] == 7 and saved.sources["seed"] == "parameters"


def test_reading_an_a1111_image() -> None:
    """What A1111 writes: the prompt with LoRA tags (which it takes out before encoding), the pre-1.9 sampler
    name, no record, no graph."""
    text = ("masterpiece, a fox <lora:catEars:0.65>\nNegative prompt: lowres\nSteps: 28, Sampler: DPM++ 2M Karras, "
            "CFG scale: 6.5, Seed: 1234, Size: 512x768, Model hash: abcdef0123, Model: realVision_v5, Clip skip: 2, "
            'Lora hashes: "catEars: 0123456789ab", Version: v1.6.0')
    saved = read_generation({"parameters": text})
    assert saved.to_dict() | {"sources": {}} == {
        "prompt": "masterpiece, a fox", "negative_prompt": "lowres", "seed": 1234, "steps": 28,
        "cfg": 6.5, "sampler": "dpmpp_2m", "scheduler": "karras", "width": 512, "height": 768,
        "checkpoint": "realVision_v5", "loras": [{"name": "catEars", "weight": 0.65}], "clip_skip": 2, "sources": {}}
    assert saved.hashes["checkpoint"] == "abcdef0123"


def test_models_are_matched_to_local_files() -> None:
    local = ["sd15/realVision_v5.safetensors", "xl/juggerPhoto_xl.safetensors", "animeMix_v2.ckpt"]
    assert match_model("sd15/realVision_v5.safetensors", local) == "sd15/realVision_v5.safetensors"
    assert match_model("sd15\\realVision_v5.safetensors", local) == "sd15/realVision_v5.safetensors"
    assert match_model("realVision_v5", local) == "sd15/realVision_v5.safetensors"  # A1111's stem
    assert match_model("other/animeMix_v2.ckpt", local) == "animeMix_v2.ckpt"
    hashes = {"xl/juggerPhoto_xl.safetensors": "abcdef0123" + "0" * 54}
    assert match_model("renamed", local, hashes.get, "abcdef0123") == "xl/juggerPhoto_xl.safetensors"
    assert match_model("missing", local, hashes.get, "ffff") is None


def test_lora_tags_resolve_to_local_files_and_say_what_is_missing() -> None:
    local = ["sd15/cat_ears.safetensors", "detail_tweaker.safetensors"]
    found, notes = resolve_lora_tags("<lora:cat_ears:0.8> <lora:gone_lora:1> <lora:detail_tweaker.safetensors:-0.5>", local)
    assert found == [("sd15/cat_ears.safetensors", 0.8), ("detail_tweaker.safetensors", -0.5)]
    assert notes == ["LoRA gone_lora is not in your loras folder: left out, so the image will differ."]
    assert resolve_lora_tags("no tags here", local) == ([], [])


def test_lora_tags_written_for_a_reproduction_name_the_same_files_back() -> None:
    local = ["sd15/cat_ears.safetensors", "xl/cat_ears.safetensors", "detail_tweaker.safetensors"]
    loras = [{"name": "xl/cat_ears.safetensors", "weight": 0.7}, {"name": "detail_tweaker.safetensors", "weight": 1.0}]
    text = lora_tag_text(loras, local)
    assert text == "<lora:xl/cat_ears.safetensors:0.7> <lora:detail_tweaker:1>"  # a stem only where it is unique
    assert resolve_lora_tags(text, local) == ([("xl/cat_ears.safetensors", 0.7), ("detail_tweaker.safetensors", 1.0)], [])


def test_read_image_command_prints_json(tmp_path: Path) -> None:
    graph = core_graph()
    record = for_image(record_of(graph), 0, 1)
    path = write_image(Image.new("RGB", (8, 8)), tmp_path, "x", chunks_for(record, graph), "webp")
    out = subprocess.run([sys.executable, "-m", "services", "read-image", str(path), "--all"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    answer = json.loads(out)
    assert (answer["seed"], answer["steps"], answer["sampler"], answer["checkpoint"]) == (
        7, 3, "dpmpp_2m", "sd15/animeMix_v2.safetensors")
    assert answer["embedded"][RECORD_KEY] == record and answer["embedded"]["prompt"] == graph
    empty = write_image(Image.new("RGB", (8, 8)), tmp_path, "plain", {}, "png")
    result = subprocess.run([sys.executable, "-m", "services", "read-image", str(empty)], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 1 and json.loads(result.stdout)["seed"] is None


def test_build_infotext_quotes_newlines() -> None:
    text = build_infotext("p", "", {"steps": 1, "seed": 1, "cfg": 1}, model_name="two\nlines")
    assert a1111_parse(text)[2]["Model"] == "two\nlines"


def test_images_saved_by_older_versions_still_load(tmp_path: Path) -> None:
    """Before readers were tested: the graph in Model (ComfyUI's layout), `Hashes` as a quoted string."""
    graph = core_graph()
    exif = Image.Exif()
    exif[0x0110] = "prompt:" + json.dumps(graph)
    old = ('anime fox, forest\nNegative prompt: ugly\nSteps: 3, Seed: 7, Size: 64x96, '
           'Hashes: "{\\"model\\": \\"aaaaaaaaaa\\"}"')
    exif.get_ifd(0x8769)[0x9286] = user_comment(old)
    path = tmp_path / "old.webp"
    Image.new("RGB", (64, 96)).save(path, exif=exif.tobytes())
    chunks = read_metadata(path)
    assert json.loads(chunks["prompt"]) == graph and chunks["parameters"] == old
    saved = read_generation(chunks)
    assert (saved.values["prompt"], saved.values["seed"], saved.values["steps"]) == ("anime fox, forest", 7, 3)
