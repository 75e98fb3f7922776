import json
import os
import shutil
from pathlib import Path

from model_files import SD15_LORA, write_safetensors

from services.__main__ import main
from services.library.duplicates import FINGERPRINT_BYTES, find_copies, library_copies, summary
from services.library.hashing import HashCache, read_cache
from services.library.scan import folders_under, forget_scans, scan
from services.recommend.analysis import analyze_keywords
from services.recommend.loras import candidates_for
from services.recommend.pipeline import recommend
from services.recommend.prompt_keys import PromptKeys


def _pixel_lora(root: Path) -> Path:
    original = write_safetensors(root / "loras" / "styles" / "pixelArt_v2.safetensors", SD15_LORA,
                                 {"ss_training_comment": "pixel art"})  # unlike the fixture's other LoRAs
    (original.with_suffix(".civitai.info")).write_text(json.dumps(
        {"baseModel": "SD 1.5", "trainedWords": ["pixel art"], "model": {"name": "Pixel Art", "tags": ["pixel art"]}}))
    return original


def test_a_copy_is_found_confirmed_by_hashing_and_nothing_is_deleted(models_root: Path, tmp_path: Path) -> None:
    original = _pixel_lora(models_root)
    copy = models_root / "loras" / "old" / "px_backup.safetensors"
    copy.parent.mkdir()
    shutil.copyfile(original, copy)
    library = scan(folders_under(models_root))
    unconfirmed = find_copies(library.entries, {})
    group = next(g for g in unconfirmed if {e.name for e in g.files} == {"styles/pixelArt_v2.safetensors",
                                                                       "old/px_backup.safetensors"})
    assert not group.confirmed and group.how == "fingerprint"
    assert group.files[0].name == "styles/pixelArt_v2.safetensors"  # the copy with a sidecar stands for both
    cache = tmp_path / "cache"
    confirmed = library_copies(library, cache, confirm=True)
    pixel = [g for g in confirmed if g.files[0].name == "styles/pixelArt_v2.safetensors"]
    assert len(pixel) == 1 and pixel[0].confirmed and pixel[0].how == "sha256"
    assert pixel[0].wasted == original.stat().st_size
    assert summary(confirmed)["wasted_bytes"] >= original.stat().st_size
    # only candidates were hashed: the tiny fixtures of other sizes were not read
    assert set(read_cache(cache)) <= {e.path for g in unconfirmed for e in g.files}
    assert original.exists() and copy.exists()


def test_one_size_and_fingerprint_but_other_bytes_is_not_a_copy(tmp_path: Path) -> None:
    """Files alike at both ends differ in the middle: hashing tells them apart."""
    root = tmp_path / "models"
    size = 3 * FINGERPRINT_BYTES
    for name, middle in (("a.safetensors", b"\x01"), ("b.safetensors", b"\x02")):
        path = write_safetensors(root / "loras" / name, {"w": [size // 2]})
        data = bytearray(path.read_bytes())
        data[len(data) // 2] = middle[0]
        path.write_bytes(bytes(data))
    library = scan(folders_under(root))
    assert [g.confirmed for g in find_copies(library.entries, {})] == [False]
    assert library_copies(library, tmp_path / "cache", confirm=True) == []


def test_links_to_one_file_are_one_model_that_wastes_no_bytes(models_root: Path, tmp_path: Path) -> None:
    original = _pixel_lora(models_root)
    os.link(original, models_root / "loras" / "linked.safetensors")
    (models_root / "loras" / "symlinked.safetensors").symlink_to(original)
    groups = find_copies(scan(folders_under(models_root)).entries, {})  # nothing hashed, nothing to hash
    [linked] = [g for g in groups if "linked.safetensors" in {e.name for e in g.files}]
    assert {e.name for e in linked.files} == {"linked.safetensors", "symlinked.safetensors",
                                               "styles/pixelArt_v2.safetensors"}
    assert linked.confirmed and linked.how == "link" and linked.wasted == 0


def test_one_autov3_at_one_size_is_known_without_hashing(tmp_path: Path) -> None:
    root = tmp_path / "models"
    for name in ("one.safetensors", "two.safetensors"):
        write_safetensors(root / "loras" / name, SD15_LORA, {"sshs_model_hash": "ab" * 32})
    groups = find_copies(scan(folders_under(root)).entries, {})
    assert [(g.how, g.confirmed) for g in groups] == [("autov3", True)]


def test_the_recommender_treats_known_copies_as_one(models_root: Path, tmp_path: Path) -> None:
    original = _pixel_lora(models_root)
    copy = models_root / "loras" / "pixel_copy.safetensors"
    shutil.copyfile(original, copy)
    shutil.copyfile(original.with_suffix(".civitai.info"), copy.with_suffix(".civitai.info"))
    cache = tmp_path / "cache"
    prompt = analyze_keywords("pixel art of a castle")
    forget_scans()
    before = candidates_for(scan(folders_under(models_root), cache), PromptKeys.of(prompt))
    assert {"styles/pixelArt_v2.safetensors", "pixel_copy.safetensors"} <= {e.name for e in before}
    hashes = HashCache(cache)
    for path in (original, copy):
        hashes.hashes(path)
    library = scan(folders_under(models_root), cache)  # the hash cache changed: a rescan knows the copies
    assert library.copies == {("loras", "styles/pixelArt_v2.safetensors"): "pixel_copy.safetensors"}
    assert "styles/pixelArt_v2.safetensors" not in {e.name for e in candidates_for(library, PromptKeys.of(prompt))}
    after = recommend(library, prompt).to_dict()
    assert [p["file"] for p in after["loras"] if "pixel" in p["file"].lower()] == ["loras/pixel_copy.safetensors"]


def test_the_command_line_lists_copies(models_root: Path, tmp_path: Path, capsys) -> None:
    original = _pixel_lora(models_root)
    shutil.copyfile(original, models_root / "loras" / "again.safetensors")
    assert main(["duplicates", "--models-root", str(models_root), "--cache-dir", str(tmp_path / "cache")]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["groups"] >= 1 and printed["wasted_bytes"] >= original.stat().st_size
    assert any({"name": "again.safetensors", "kind": "loras"} in g["files"] for g in printed["duplicates"])
