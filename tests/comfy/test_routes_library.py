"""The web extension's read-only routes (nodes/routes/library.py), mounted on a fresh aiohttp application."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from services.library.hashing import HashCache
from services.library.model_records import apply_lookup, new_record, save_record

MARKUP = "<script>alert(1)</script><img src=x onerror=alert(2)>"


def get(pack: ModuleType, path: str) -> tuple[int, Any]:
    routes_library = __import__(f"{pack.__name__}.nodes.routes.library", fromlist=["register"])

    async def call() -> tuple[int, Any]:
        routes = web.RouteTableDef()
        routes_library.register(routes)
        app = web.Application()
        app.add_routes(routes)
        async with TestClient(TestServer(app)) as client:
            response = await client.get(path)
            return response.status, await response.json()

    return asyncio.run(call())


def test_library_lists_models_without_paths_and_with_lookup_state(pack: ModuleType, comfy_folders: Path) -> None:
    import folder_paths

    status, body = get(pack, "/intelligent-generation/library")
    assert status == 200
    models = {(m["kind"], m["name"]): m for m in body["models"]}
    assert ("checkpoints", "tiny_photoreal_v1.safetensors") in models and ("loras", "cat_ears_sd15.safetensors") in models
    lora = models[("loras", "cat_ears_sd15.safetensors")]
    assert lora["sha256"] is None and lora["online"] == {"status": "unknown", "sites": [], "fetched_at": None}
    assert str(comfy_folders) not in json.dumps(body) and "path" not in lora  # nothing of the local disk layout

    # Hashed and looked up (as the Metadata Fetcher leaves it): the listing reads the cache and the record.
    cache = Path(folder_paths.get_user_directory()) / "intelligent_generation"
    hashes = HashCache(cache).hashes(folder_paths.get_full_path_or_raise("loras", "cat_ears_sd15.safetensors"))
    record = apply_lookup(new_record({"sha256": hashes.sha256}), "civitai", True,
                          {"name": "Cat Ears", "description": MARKUP, "trigger_words": ["cat ears"]}, time.time(), 3600)
    save_record(cache, record)
    _, body = get(pack, "/intelligent-generation/library")
    lora = next(m for m in body["models"] if m["name"] == "cat_ears_sd15.safetensors")
    assert lora["sha256"] == hashes.sha256
    assert lora["online"]["status"] == "found" and lora["online"]["sites"] == ["civitai"]
    assert lora["online"]["description"] == MARKUP  # a plain string: the browser shows it as text


def test_settings_route_reads_the_users_file_with_defaults(pack: ModuleType, comfy_folders: Path) -> None:
    import folder_paths

    status, body = get(pack, "/intelligent-generation/settings")
    assert status == 200 and body["settings"]["IntelligentGeneration.Save.NamingMode"] == "standard"
    stored = Path(folder_paths.get_user_directory()) / "default" / "comfy.settings.json"
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_text(json.dumps({"IntelligentGeneration.Save.NamingMode": "guid"}))
    _, body = get(pack, "/intelligent-generation/settings")
    assert body["settings"]["IntelligentGeneration.Save.NamingMode"] == "guid"
    assert body["settings"]["IntelligentGeneration.Generation.Quality"] == "balanced"


def test_an_unchanged_listing_is_revalidated_not_sent_again(pack: ModuleType, comfy_folders: Path) -> None:
    """The tab fetches with cache "no-cache": with the listing's ETag, an unchanged library is a bodiless 304;
    another tag gets the whole listing."""
    routes_library = __import__(f"{pack.__name__}.nodes.routes.library", fromlist=["register"])

    async def calls() -> list[tuple[int, str, int]]:
        routes = web.RouteTableDef()
        routes_library.register(routes)
        app = web.Application()
        app.add_routes(routes)
        seen: list[tuple[int, str, int]] = []
        async with TestClient(TestServer(app)) as client:
            first = await client.get("/intelligent-generation/library")
            tag = first.headers["ETag"]
            seen.append((first.status, tag, len(await first.read())))
            again = await client.get("/intelligent-generation/library", headers={"If-None-Match": tag})
            seen.append((again.status, again.headers["ETag"], len(await again.read())))
            stale = await client.get("/intelligent-generation/library", headers={"If-None-Match": '"other"'})
            seen.append((stale.status, stale.headers["ETag"], len(await stale.read())))
        return seen

    (first, again, stale) = asyncio.run(calls())
    assert first[0] == 200 and first[2] > 100 and first[1].startswith('"')
    assert again == (304, first[1], 0)
    assert stale == (200, first[1], first[2])
