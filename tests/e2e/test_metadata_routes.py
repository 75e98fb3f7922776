"""The Metadata Fetcher's HTTP routes on a real ComfyUI server, looking up against a loopback CivitAI."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from comfy_server import ComfyServer
from fakes.civitai_server import FakeCivitai, civitai_model, civitai_version
from route_calls import call, post_with_events

from services.online import session as online

LORA = "cat_ears_sd15.safetensors"
EVENT = "intelligent-generation.fetch-progress"


@pytest.fixture(scope="module")
def civitai(tiny_models: Path) -> Iterator[FakeCivitai]:
    sha = hashlib.sha256((tiny_models / "loras" / LORA).read_bytes()).hexdigest()
    version = civitai_version(sha, 31, 301, model_name="Cat Ears", trained_words=["cat ears"])
    with FakeCivitai([version], {31: civitai_model(31, name="Cat Ears", tags=["animal ears"])}) as fake:
        yield fake


@pytest.fixture(scope="module")
def lookup_server(tmp_path_factory: pytest.TempPathFactory, tiny_models: Path,
                  civitai: FakeCivitai) -> Iterator[ComfyServer]:
    """A ComfyUI whose user set the documented base-URL variables to the loopback CivitAI."""
    base = tmp_path_factory.mktemp("comfy_lookup")
    env = {online.CIVITAI_URL_ENV: civitai.url, online.HF_URL_ENV: civitai.url}
    with ComfyServer(base, models=tiny_models, env=env) as server:
        yield server
    shutil.rmtree(base, ignore_errors=True)


def test_model_metadata_is_read_only_and_confined_to_model_folders(lookup_server: ComfyServer,
                                                                    civitai: FakeCivitai) -> None:
    status, body = call(lookup_server, "GET", f"/intelligent-generation/models/loras/{LORA}/metadata")
    assert status == 200
    assert body["kind"] == "loras" and body["name"] == LORA
    assert body["hashes"] is None and body["record"] is None  # never hashed, never looked up: a GET does neither
    assert body["local"]["trigger_words"] and "path" not in json.dumps(body["local"])
    for path in ("/intelligent-generation/models/loras/..%2F..%2Fcomfyui.log/metadata",
                 "/intelligent-generation/models/loras/../../comfyui.log/metadata",
                 "/intelligent-generation/models/custom_nodes/intelligent_generation%2F__init__.py/metadata",
                 "/intelligent-generation/models/loras/cat_ears_sd15.civitai.info/metadata",
                 "/intelligent-generation/models/loras/missing.safetensors/metadata"):
        assert call(lookup_server, "GET", path)[0] == 404, path
    assert call(lookup_server, "POST", "/intelligent-generation/metadata/fetch", {"host": "https://evil.example"})[0] == 400
    assert call(lookup_server, "POST", "/intelligent-generation/metadata/fetch", {"kind": "custom_nodes"})[0] == 400
    assert call(lookup_server, "POST", "/intelligent-generation/metadata/fetch",
                {"kind": "loras", "name": "../../comfyui.log"})[0] == 404
    assert civitai.requests == []


def test_fetch_one_model_then_read_its_record(lookup_server: ComfyServer, civitai: FakeCivitai,
                                             tiny_models: Path) -> None:
    civitai.requests.clear()
    status, answer, events = post_with_events(lookup_server, "/intelligent-generation/metadata/fetch",
                                              {"kind": "loras", "name": LORA}, EVENT)
    assert status == 200, answer
    assert {k: answer[k] for k in ("files", "hashed", "found", "not_found", "errors", "requests")} == {
        "files": 1, "hashed": 1, "found": 1, "not_found": 0, "errors": 0, "requests": 2}
    assert answer["job"]["state"] == "done" and answer["job"]["results"][0]["outcome"] == "found"
    assert events[0]["state"] == "running" and events[-1]["state"] == "done"
    assert {"hashing", "lookup"} <= {e["phase"] for e in events}
    assert all(isinstance(e["done"], int) and isinstance(e["total"], int) for e in events)
    sha = hashlib.sha256((tiny_models / "loras" / LORA).read_bytes()).hexdigest()
    assert [r.path for r in civitai.requests] == [f"/api/v1/model-versions/by-hash/{sha}", "/api/v1/models/31"]

    status, body = call(lookup_server, "GET", f"/api/intelligent-generation/models/loras/{LORA}/metadata")
    assert status == 200 and body["hashes"]["sha256"] == sha
    assert body["record"]["name"] == "Cat Ears" and body["record"]["trigger_words"] == ["cat ears"]
    assert body["record"]["lookups"]["civitai"]["status"] == "found"
    status, job = call(lookup_server, "GET", "/intelligent-generation/metadata/fetch")
    assert status == 200 and job["job"]["state"] == "done" and job["job"]["what"] == f"loras/{LORA}"


def test_fetch_the_whole_library(lookup_server: ComfyServer, civitai: FakeCivitai) -> None:
    civitai.requests.clear()
    status, answer = call(lookup_server, "POST", "/intelligent-generation/metadata/fetch", {"kind": "all"})
    assert status == 200, answer
    assert answer["files"] == 7 and answer["found"] + answer["not_found"] + answer["errors"] == 7
    assert (answer["found"], answer["errors"]) == (1, 0)  # the LoRA's record is fresh: not asked again
    [bulk] = civitai.requests
    assert bulk.method == "POST" and len(bulk.json()) == 6


def test_duplicates_are_confirmed_by_hashing_the_candidates_only(lookup_server: ComfyServer,
                                                                 civitai: FakeCivitai) -> None:
    """A copy of a LoRA in a subfolder: the listing says it may be one (without hashing), the route confirms it by
    hashing it, the listing then names the copy and what it wastes; nothing goes online, nothing is deleted."""
    civitai.requests.clear()
    loras = lookup_server.base / "models" / "loras"
    copy = loras / "backup" / "cat_ears_copy.safetensors"
    copy.parent.mkdir(exist_ok=True)
    shutil.copyfile(loras / LORA, copy)
    names = {LORA, "backup/cat_ears_copy.safetensors"}
    try:
        status, listing = call(lookup_server, "GET", "/intelligent-generation/library")
        assert status == 200
        [possible] = [g for g in listing["duplicates"] if {f["name"] for f in g["files"]} == names]
        assert not possible["confirmed"] and listing["duplicate_summary"]["unconfirmed_groups"] >= 1
        status, answer, events = post_with_events(lookup_server, "/intelligent-generation/duplicates", {}, EVENT)
        assert status == 200, answer
        [group] = [g for g in answer["duplicates"] if {f["name"] for f in g["files"]} == names]
        assert group["confirmed"] and group["how"] == "sha256" and group["wasted_bytes"] == copy.stat().st_size
        assert answer["wasted_bytes"] >= copy.stat().st_size
        assert "hashing" in {e["phase"] for e in events} and events[-1]["state"] == "done"
        status, listing = call(lookup_server, "GET", "/intelligent-generation/library")
        copies = {m["name"]: m["copy_of"] for m in listing["models"] if m["name"] in names}
        assert sorted(copies.values(), key=str) == [None, LORA] or sorted(copies.values(), key=str) == [
            None, "backup/cat_ears_copy.safetensors"]
        status, stats = call(lookup_server, "GET", "/intelligent-generation/stats")
        assert stats["duplicates"]["copies"] >= 1
        assert civitai.requests == [] and copy.exists() and (loras / LORA).exists()
    finally:
        copy.unlink()


def test_a_preview_image_beside_a_model_is_served_and_nothing_else_is(lookup_server: ComfyServer) -> None:
    """A CivitAI Helper style `<stem>.preview.png` next to a LoRA: the listing says it has one and the route
    serves exactly that image; names outside ComfyUI's model files, and models without one, are 404."""
    import urllib.error
    import urllib.request

    from comfy_server import write_png

    loras = lookup_server.base / "models" / "loras"
    preview = loras / "cat_ears_sd15.preview.png"
    write_png(preview, 8, 8, {})
    try:
        status, listing = call(lookup_server, "GET", "/intelligent-generation/library")
        flags = {m["name"]: m["preview"] for m in listing["models"] if m["kind"] == "loras"}
        assert flags[LORA] is True and flags["cat_ears_xl.safetensors"] is False
        url = f"{lookup_server.url}/api/intelligent-generation/models/loras/{LORA}/preview"
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.headers["Content-Type"] == "image/png"
            assert response.read() == preview.read_bytes()
        for path in ("loras/cat_ears_xl.safetensors", "loras/..%2F..%2Fcomfyui.log", "loras/../../comfyui.log",
                     "checkpoints/cat_ears_sd15.preview.png", f"custom_nodes/{LORA}", "loras/missing.safetensors"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(f"{lookup_server.url}/api/intelligent-generation/models/{path}/preview",
                                       timeout=30)
            assert refused.value.code == 404, path
    finally:
        preview.unlink()
    # Without one beside it, the example image a lookup kept (StorePreviews) is the preview.
    sha = hashlib.sha256((loras / LORA).read_bytes()).hexdigest()
    kept = lookup_server.base / "user" / "intelligent_generation" / "previews" / f"{sha}.2.png"
    kept.parent.mkdir(parents=True, exist_ok=True)
    write_png(kept, 4, 4, {})
    try:
        status, listing = call(lookup_server, "GET", "/intelligent-generation/library")
        [item] = [m for m in listing["models"] if m["name"] == LORA]
        assert item["preview"] is True and item["preview_nsfw"] == 2
        with urllib.request.urlopen(url, timeout=30) as response:
            assert response.read() == kept.read_bytes()
    finally:
        kept.unlink()


def test_updates_are_checked_for_the_same_base_model_with_model_ids_only(lookup_server: ComfyServer,
                                                                         civitai: FakeCivitai) -> None:
    """The LoRA fetched above is CivitAI model 31, version 301 (SD 1.5). Model 31 also has an SDXL version and a
    newer SD 1.5 one: only the latter is an update; the request names model 31 and nothing of the library."""
    newer = civitai_version("a" * 64, 31, 303, name="v3.0", model_name="Cat Ears")
    other_base = civitai_version("b" * 64, 31, 304, name="XL", model_name="Cat Ears", base_model="SDXL 1.0")
    civitai.versions[:0] = [other_base, newer]  # newest first, as CivitAI lists them
    civitai.requests.clear()
    try:
        status, answer, events = post_with_events(lookup_server, "/intelligent-generation/updates", {}, EVENT)
        assert status == 200, answer
        [cat] = [m for m in answer["models"] if m["name"] == LORA]
        assert [n["version_id"] for n in cat["newer"]] == [303] and cat["version_id"] == 301
        assert "newer version for the same base model" in cat["summary"]
        assert answer["with_updates"] == 1 and events[-1]["state"] == "done"
        [asked] = civitai.requests
        assert asked.path == "/api/v1/models" and asked.query["ids"] == ["31"]
        assert "cat_ears" not in json.dumps([asked.path, asked.query]).lower()
    finally:
        del civitai.versions[:2]


def test_a_search_by_name_says_what_it_sends_and_sends_only_that(lookup_server: ComfyServer,
                                                                 civitai: FakeCivitai) -> None:
    """The XL cat-ears LoRA is not known by its hash: a search by its stem is planned without sending anything,
    then, confirmed, sends exactly the stem, the type and the base model."""
    civitai.requests.clear()
    path = "/intelligent-generation/models/loras/cat_ears_xl.safetensors/name-search"
    status, plan = call(lookup_server, "POST", path, {})
    assert status == 200 and plan["status"] == "planned" and civitai.requests == []
    assert plan["sent"] == {"query": "cat_ears_xl", "types": "LORA", "baseModels": "SDXL 1.0"}
    status, found = call(lookup_server, "POST", path, {"confirm": True})
    assert status == 200 and found["status"] == "searched" and found["sent"] == plan["sent"]
    [asked] = civitai.requests
    assert asked.path == "/api/v1/models"
    assert {k: v for k, v in asked.query.items() if k in plan["sent"]} == {k: [v] for k, v in plan["sent"].items()}
    assert set(asked.query) <= {"query", "types", "baseModels", "sort", "limit"}
    assert call(lookup_server, "POST", "/intelligent-generation/models/loras/..%2F..%2Fcomfyui.log/name-search",
                {"confirm": True})[0] == 404
    assert len(civitai.requests) == 1
