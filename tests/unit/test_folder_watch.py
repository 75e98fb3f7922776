"""The model folders learnt from their directories: a queue with nothing changed costs a stat per folder, and a
restart lists only the folders that changed; a file rewritten in place is found where it matters (the files a
prompt uses), by a sweep, or by a new process that does not start from the saved listings."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from model_files import SD15_LORA, write_safetensors

from services.library import folder_watch
from services.library import scan as library
from services.library.scan import ScanState, fingerprint, folders_under, remember_listings, scan, stale, sweep


def age(*roots: Path) -> None:
    """Make folders and their subfolders look as if they last changed an hour ago (past the racy window)."""
    for root in roots:
        for path in [root, *(Path(d) / n for d, names, _ in os.walk(root) for n in names)]:
            st = os.stat(path)
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - 3_600_000_000_000))


@pytest.fixture
def listed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The directories really listed (scandir) by the folder watch."""
    calls: list[str] = []
    real = folder_watch.os.scandir

    def spy(path: str) -> object:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(folder_watch.os, "scandir", spy)
    library.forget_scans()
    return calls


def test_nothing_changed_lists_no_folder_and_keeps_the_library(models_root: Path, tmp_path: Path,
                                                                listed: list[str]) -> None:
    folders = folders_under(models_root)
    age(models_root)
    first = scan(folders, tmp_path / "cache")
    before = fingerprint(folders, tmp_path / "cache")
    listed.clear()
    assert scan(folders, tmp_path / "cache") is first and listed == []
    assert fingerprint(folders, tmp_path / "cache") == before


def test_a_file_added_is_seen_at_once(models_root: Path, tmp_path: Path, listed: list[str]) -> None:
    folders = folders_under(models_root)
    age(models_root)
    before = fingerprint(folders, tmp_path / "cache")
    scan(folders, tmp_path / "cache")
    write_safetensors(models_root / "loras" / "paperCranes.safetensors", SD15_LORA)
    assert fingerprint(folders, tmp_path / "cache") != before
    assert scan(folders, tmp_path / "cache").find("loras", "paperCranes") is not None


def test_a_file_rewritten_in_place_is_found_before_it_is_used(models_root: Path, tmp_path: Path,
                                                              listed: list[str]) -> None:
    folders = folders_under(models_root)
    sidecar = models_root / "loras" / "catEars.civitai.info"
    sidecar.write_text(json.dumps({"baseModel": "SD 1.5", "trainedWords": ["cat ears"]}))
    age(models_root)
    first = scan(folders, tmp_path / "cache")
    sidecar.write_text(json.dumps({"baseModel": "SD 1.5", "trainedWords": ["nekomimi"]}))  # in place: its
    # own mtime moves, its folder's does not
    assert scan(folders, tmp_path / "cache") is first  # the folders alone do not show it
    assert stale(first, [("loras", "oilPaint.safetensors")]) == []
    assert stale(first, [("loras", "catEars.safetensors")]) == ["catEars.safetensors"]
    again = scan(folders, tmp_path / "cache")
    assert again.find("loras", "catEars").trigger_words == ["nekomimi"]  # type: ignore[union-attr]
    assert stale(again, [("loras", "catEars.safetensors")]) == []


def test_a_sweep_finds_what_no_folder_shows(models_root: Path, tmp_path: Path, listed: list[str]) -> None:
    folders = folders_under(models_root)
    age(models_root)
    first = scan(folders, tmp_path / "cache")
    lora = models_root / "loras" / "oilPaint.safetensors"
    folder = os.stat(lora.parent)
    write_safetensors(lora, SD15_LORA, {"ss_tag_frequency": json.dumps({"5_x": {"impasto": 3}})})
    os.utime(lora.parent, ns=(folder.st_atime_ns, folder.st_mtime_ns))  # as a rewrite in place leaves it
    assert scan(folders, tmp_path / "cache") is first
    sweep(folders)
    assert scan(folders, tmp_path / "cache") is not first


def test_a_folder_changed_this_very_moment_is_listed_again(models_root: Path, tmp_path: Path,
                                                          listed: list[str]) -> None:
    """Within the file system's clock tick a second change may leave the folder's mtime as it was."""
    folders = folders_under(models_root)
    age(models_root)
    os.utime(models_root / "loras")  # changed now; the other folders an hour ago
    scan(folders, tmp_path / "cache")
    listed.clear()
    scan(folders, tmp_path / "cache")
    assert listed == [str(models_root / "loras")]


def test_after_a_change_only_the_changed_lora_is_read_for_the_search_again(
        models_root: Path, tmp_path: Path, listed: list[str], documents_made: list[str]) -> None:
    made = documents_made
    folders = folders_under(models_root)
    first = scan(folders, tmp_path / "cache")
    first.lora_search  # noqa: B018 (built on first use)
    assert len(made) == len(first.of_kind("loras")) > 2
    made.clear()
    write_safetensors(models_root / "loras" / "paperCranes.safetensors", SD15_LORA)
    again = scan(folders, tmp_path / "cache")
    index, documents = again.lora_search
    assert made == ["paperCranes.safetensors"] and len(documents) == len(again.of_kind("loras"))


def test_a_restart_lists_only_the_folders_that_changed_and_checks_the_files_it_uses(
        models_root: Path, tmp_path: Path, listed: list[str]) -> None:
    """The listings are saved with the index: after a restart an unchanged folder is not listed again, a file
    added while the server was down shows in its folder's mtime, and a sidecar rewritten in place meanwhile is
    found before its LoRA is used."""
    folders, cache = folders_under(models_root), tmp_path / "cache"
    sidecar = models_root / "loras" / "catEars.civitai.info"
    age(models_root)
    scan(folders, cache)
    library.forget_scans()  # a restart
    sidecar.write_text(json.dumps({"baseModel": "SD 1.5", "trainedWords": ["nekomimi"]}))  # in place
    write_safetensors(models_root / "vae" / "added_vae.safetensors", SD15_LORA)
    listed.clear()
    remember_listings(cache)
    restarted = scan(folders, cache)
    assert set(listed) == {str(models_root / "vae")}  # (twice: changed this very second, see RACY_NS)
    assert restarted.find("vae", "added_vae") is not None
    assert stale(restarted, [("loras", "catEars.safetensors")]) == ["catEars.safetensors"]
    assert scan(folders, cache).find("loras", "catEars").trigger_words == ["nekomimi"]  # type: ignore[union-attr]
    library.forget_scans()  # a restart that does not start from the saved listings reads every folder
    listed.clear()
    scan(folders, cache)
    assert set(listed) >= {str(models_root / "loras"), str(models_root / "checkpoints")}


def test_each_scan_state_is_its_own(models_root: Path, tmp_path: Path, listed: list[str]) -> None:
    """The server keeps its own ScanState (nodes/common.py): forgetting the process's leaves the server's
    memory of its folders and last scan as it was, and the other way round."""
    folders, cache = folders_under(models_root), tmp_path / "cache"
    age(models_root)
    server = ScanState()
    first = scan(folders, cache, server)
    library.forget_scans()  # the process's state only
    listed.clear()
    assert scan(folders, cache, server) is first and listed == []
    assert scan(folders, cache) is not first and listed  # the process's state starts from nothing


def test_a_folder_touched_without_a_change_is_saved_with_its_new_stamp(models_root: Path, tmp_path: Path,
                                                                      listed: list[str]) -> None:
    """A file added and removed again (a download's temporary file) moves a folder's mtime and leaves its
    files as they were: the new stamp is saved too, or every later start would list that folder again."""
    folders, cache = folders_under(models_root), tmp_path / "cache"
    age(models_root)
    scan(folders, cache)
    (models_root / "loras" / "partial.tmp").write_bytes(b"x")
    (models_root / "loras" / "partial.tmp").unlink()
    age(models_root / "loras")
    library.forget_scans()
    remember_listings(cache)
    scan(folders, cache)  # lists loras/ again (its stamp moved) and saves what it found
    library.forget_scans()
    listed.clear()
    remember_listings(cache)
    scan(folders, cache)
    assert listed == []


def test_a_name_in_two_folders_of_a_kind_is_the_first_folder_s_across_rescans(models_root: Path, tmp_path: Path) -> None:
    """As ComfyUI resolves a name (the first folder that has it), however the folders' shares of the scan are
    kept and put together again after a change in one of them."""
    extra = tmp_path / "extra_loras"
    write_safetensors(extra / "catEars.safetensors", SD15_LORA)
    write_safetensors(extra / "onlyHere.safetensors", SD15_LORA)
    folders = folders_under(models_root)
    folders["loras"] = [*folders["loras"], extra]
    cache = tmp_path / "cache"
    age(models_root, extra)
    first = scan(folders, cache)
    assert first.find("loras", "catEars.safetensors").path == str(models_root / "loras" / "catEars.safetensors")  # type: ignore[union-attr]
    write_safetensors(extra / "added.safetensors", SD15_LORA)
    again = scan(folders, cache)
    names = [e.name for e in again.of_kind("loras")]
    assert names.count("catEars.safetensors") == 1 and {"onlyHere.safetensors", "added.safetensors"} <= set(names)
    assert again.find("loras", "catEars.safetensors").path == str(models_root / "loras" / "catEars.safetensors")  # type: ignore[union-attr]
    assert [e.name for e in again.of_kind("loras")] == [e.name for e in scan(folders, cache).of_kind("loras")]
    library.forget_scans()
    assert [e.name for e in scan(folders, cache).of_kind("loras")] == names  # a new process: the same order


def test_a_saved_listing_reads_back_as_it_was_and_a_damaged_one_is_listed_again(models_root: Path) -> None:
    watch = ScanState().watch
    listing = next(listing for listing in watch.walk(str(models_root / "loras")) if listing.files)
    again = folder_watch.Listing.from_json(listing.to_json())
    assert again is not None and (again.stamp, again.subfolders, again.files) == (
        listing.stamp, listing.subfolders, listing.files)
    columns = json.loads(listing.to_json())
    columns[6] = [99] * len(columns[6])  # a sidecar set that is not there
    assert folder_watch.Listing.from_json(json.dumps(columns)) is None
    columns = json.loads(listing.to_json())
    columns[3] = columns[3][:-1]  # one name short
    assert folder_watch.Listing.from_json(json.dumps(columns)) is None
    assert folder_watch.Listing.from_json("[[1, 2, 3], [], []]") is None  # an older format
