"""Every file of a library is a stranger's: one odd file is that file's problem, never the library's (issue:
hostile input, items 4 to 6). Each case replays what once broke the scan or every later recommendation."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from model_files import SD15_LORA, write_safetensors

from services.library.scan import Library, folders_under, scan
from services.recommend.analysis import analyze_keywords
from services.recommend.feedback import FeedbackStore
from services.recommend.loras import plan_loras


def scanned(root: Path, cache: Path | None = None, timeout: float = 20) -> Library:
    """The scan in a thread: a blocking read (a FIFO) fails the test instead of hanging it."""
    found: list[Library] = []
    worker = threading.Thread(target=lambda: found.append(scan(folders_under(root), cache)), daemon=True)
    worker.start()
    worker.join(timeout)
    assert found, "the scan blocked"
    return found[0]


def test_metadata_nested_100000_deep_is_that_files_problem(tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    write_safetensors(tmp_path / "loras" / "deep.safetensors", SD15_LORA,
                      {"ss_tag_frequency": deep, "ss_base_model_version": "sd_v1"})
    write_safetensors(tmp_path / "loras" / "fine.safetensors", SD15_LORA)
    (tmp_path / "loras" / "fine.json").write_text(json.dumps({"description": "x" + "[" * 50_000}))
    library = scanned(tmp_path, tmp_path / "cache")
    assert {e.name for e in library.entries} == {"deep.safetensors", "fine.safetensors"}
    assert all(e.usable for e in library.entries)


def test_sidecars_of_the_wrong_types_are_ignored_with_the_reason(tmp_path: Path) -> None:
    write_safetensors(tmp_path / "loras" / "odd.safetensors", SD15_LORA)
    (tmp_path / "loras" / "odd.metadata.json").write_text(json.dumps(
        {"model_name": {"nested": [1]}, "tags": "not a list", "civitai": [], "base_model": 5}))
    (tmp_path / "loras" / "odd.civitai.info").write_text(json.dumps({"model": "x", "trainedWords": {"a": 1}}))
    [entry] = scanned(tmp_path, tmp_path / "cache").entries
    assert entry.name == "odd.safetensors" and entry.usable
    plan_loras(scanned(tmp_path), analyze_keywords("odd nested"), "sd15")  # recommending still works


def test_a_fifo_named_like_a_sidecar_does_not_block_the_scan(tmp_path: Path) -> None:
    write_safetensors(tmp_path / "loras" / "x.safetensors", SD15_LORA)
    os.mkfifo(tmp_path / "loras" / "x.json")
    [entry] = scanned(tmp_path).entries
    assert any("x.json" in p and "regular" in p for p in entry.problems)


def test_a_sidecar_linked_from_outside_the_model_folder_is_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "private" / "notes.json"
    secret.parent.mkdir()
    secret.write_text(json.dumps({"description": "my private notes", "activation text": "secret"}))
    write_safetensors(tmp_path / "models" / "loras" / "x.safetensors", SD15_LORA)
    (tmp_path / "models" / "loras" / "x.json").symlink_to(secret)
    [entry] = scanned(tmp_path / "models").entries
    assert "private" not in entry.description and entry.trigger_words != ["secret"]
    assert any("outside" in p for p in entry.problems)


def test_a_file_name_that_is_not_utf8_beside_a_sidecar_is_indexed(tmp_path: Path) -> None:
    folder = tmp_path / "loras"
    write_safetensors(folder / "plain.safetensors", SD15_LORA)
    odd = os.fsencode(folder) + b"/caf\xe9"
    write_safetensors(Path(os.fsdecode(odd + b".safetensors")), SD15_LORA)
    Path(os.fsdecode(odd + b".json")).write_text(json.dumps({"description": "latin-1 name"}))
    first = scanned(tmp_path, tmp_path / "cache")
    assert len(first.entries) == 2
    from services.library import scan as library_module

    library_module.forget_scans()  # as after a restart: read back from the index on disk
    assert len(scanned(tmp_path, tmp_path / "cache").entries) == 2


def test_a_rating_of_a_hostile_record_does_not_poison_later_recommendations(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path)
    record = {"generation_id": "g1", "analysis": {"style": ["anime"], "concepts": ["cat", {"x": 1}, None]},
              "checkpoint": {"name": ["a", "b"]}, "settings": {"seed": 1, "deep": {"a": [1]}},
              "loras": [{"name": ["list", "name"], "weight": "NaN"}, {"name": "ok.safetensors", "weight": 0.5}, "junk"]}
    row = store.rate(record, 5)
    assert row["loras"] == [{"name": "ok.safetensors", "weight": 0.5}] and row["checkpoint"] is None
    assert row["concepts"] == ["cat"] and row["settings"] == {"seed": 1}
    leans = store.leans(["cat"])
    assert set(leans) == {("loras", "ok.safetensors")}


def test_a_lora_with_bytes_after_its_last_tensor_is_never_picked(tmp_path: Path) -> None:
    path = write_safetensors(tmp_path / "loras" / "padded.safetensors", SD15_LORA)
    with open(path, "ab") as f:
        f.write(b"\0" * 100)  # the safetensors loader refuses this file: ComfyUI would fail at LoraLoader
    [entry] = scanned(tmp_path).entries
    assert not entry.usable and any("after the last tensor" in p for p in entry.problems)


def test_a_model_and_its_sidecar_linked_from_a_shared_store_are_read(tmp_path: Path) -> None:
    store = tmp_path / "store"
    write_safetensors(store / "x.safetensors", SD15_LORA)
    (store / "x.json").write_text(json.dumps({"description": "from the shared store"}))
    (tmp_path / "models" / "loras").mkdir(parents=True)
    for name in ("x.safetensors", "x.json"):
        (tmp_path / "models" / "loras" / name).symlink_to(store / name)
    [entry] = scanned(tmp_path / "models").entries
    assert entry.description == "from the shared store" and not entry.problems


def test_a_chain_of_links_keeps_the_sidecar_beside_any_of_its_folders(tmp_path: Path) -> None:
    """A link to a link (a shared folder of links into a store): a sidecar beside any hop is the model's own."""
    write_safetensors(tmp_path / "store" / "x.safetensors", SD15_LORA)
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "x.safetensors").symlink_to(tmp_path / "store" / "x.safetensors")
    (shared / "x.json").write_text(json.dumps({"description": "beside the first hop"}))
    (tmp_path / "models" / "loras").mkdir(parents=True)
    for name in ("x.safetensors", "x.json"):
        (tmp_path / "models" / "loras" / name).symlink_to(shared / name)
    [entry] = scanned(tmp_path / "models").entries
    assert entry.description == "beside the first hop" and not entry.problems


def test_problems_never_carry_absolute_paths(tmp_path: Path) -> None:
    write_safetensors(tmp_path / "loras" / "x.safetensors", SD15_LORA)
    (tmp_path / "loras" / "x.json").symlink_to(tmp_path / "loras" / "x.json")  # a loop: ELOOP names the path
    [entry] = scanned(tmp_path).entries
    assert entry.problems and not any(str(tmp_path) in p for p in entry.problems), entry.problems
