"""HTTP routes the web extension's Model Library tab reads (GET only; nothing here goes online).

ComfyUI serves every custom route also under /api, which is where the frontend's api.fetchApi
sends it. Text fields are plain JSON strings: what came from CivitAI is data, and the browser
puts it on the page with textContent only.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import folder_paths
from aiohttp import web

from ...services.library.duplicates import find_copies, summary
from ...services.library.hashing import read_cache, still_current
from ...services.library.model_records import RECORDS_FOLDER, load_record
from ...services.library.previews import PREVIEWS_FOLDER, preview_image, stored_previews
from ...services.library.scan import Library
from ...services.server.settings import DEFAULT_USER, read_settings, settings_file
from ..comfy import PREFIX, cache_dir, library_folders, load_library
from .metadata import resolve

log = logging.getLogger(__name__)

FIELDS = ("kind", "name", "title", "base_model", "family", "tags", "trigger_words", "trigger_guessed",
          "preferred_weight", "description", "sources", "problems", "size", "preview_nsfw")
ONLINE_FIELDS = ("name", "version", "base_model", "tags", "trigger_words", "description")


def online_view(record: dict[str, Any] | None) -> dict[str, Any]:
    """What the Metadata Fetcher's stored record says of the lookups: status, sites, time, CivitAI's text."""
    if record is None:
        return {"status": "unknown", "sites": [], "fetched_at": None}
    view = {key: record.get(key) for key in ONLINE_FIELDS}
    weight = (record.get("recommended") or {}).get("weight")
    return {**view, "status": record.get("status", "unknown"), "sites": record.get("source") or [],
            "fetched_at": record.get("fetched_at"), "recommended_weight": weight}


def library_listing(library: Library, cache: Path) -> dict[str, Any]:
    """What the tab shows of each model, and the copies found without hashing; the absolute path stays on the
    server."""
    models = []
    known = read_cache(cache)  # one query for the whole library; listing never hashes
    kept = stored_previews(cache)  # one folder listing
    for entry in library.entries:
        item = {name: getattr(entry, name) for name in FIELDS}
        sha = still_current(entry.path, known.get(entry.path))
        item["sha256"] = sha
        item["online"] = online_view(load_record(cache, sha) if sha else None)
        item["copy_of"] = library.copies.get((entry.kind, entry.name))
        # Served by GET .../models/{kind}/{name}/preview: the image beside it, else an example image kept for it.
        stored = kept.get(sha) if sha and not entry.preview else None
        item["preview"] = bool(entry.preview or stored)
        if stored:
            item["preview_nsfw"] = stored[1]
        models.append(item)
    copies = find_copies(library.entries, known)
    return {"models": models, "duplicates": [group.to_dict() for group in copies], "duplicate_summary": summary(copies)}


def preview_file(kind: str, name: str) -> tuple[str, str] | None:
    """(path, content type) of the preview image of a model ComfyUI lists: the one another tool left beside it,
    else the example image a lookup kept for it (StorePreviews); a regular image file of a sane size, or None."""
    path = resolve(kind, name)
    entry = load_library().find(kind, name) if path else None
    if path is None or entry is None or os.path.realpath(entry.path) != os.path.realpath(path):
        return None
    return preview_image(entry, cache_dir())


def _user(request: web.Request) -> str:
    """ComfyUI's user of the request ("default" unless it runs with --multi-user)."""
    server = sys.modules.get("server")  # ComfyUI's; absent when the routes are mounted alone (tests)
    instance = getattr(getattr(server, "PromptServer", None), "instance", None)
    if instance is None:
        return DEFAULT_USER
    try:
        return str(instance.user_manager.get_request_user_id(request))
    except KeyError:
        raise web.HTTPForbidden(text="Unknown ComfyUI user.") from None


FRESH_S = 2.0


class Listing:
    """The library tab's answer, made once per change of the library: polling it costs a rescan (a stat of each
    folder's files), not a listing; requests wait for the one in progress instead of filling ComfyUI's threads."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.made: tuple[Library, tuple[int, ...], bytes] | None = None
        self.checked_at = 0.0
        self.quick: tuple[int, ...] = ()
        self.tagged: tuple[bytes, str] | None = None

    async def body(self) -> bytes:
        async with self.lock:
            quick = _quick_stamp()
            if self.made and quick == self.quick and time.monotonic() - self.checked_at < FRESH_S:
                # A tab polling in a loop costs a few stats: a download, a fetch or a new file in a model folder
                # shows at once, a change deeper in a subfolder within FRESH_S.
                return self.made[2]
            # Reading headers and sidecars blocks; keep the event loop (and the websocket) responsive.
            library = await asyncio.to_thread(load_library)
            self.checked_at, self.quick = time.monotonic(), quick
            # What the listing reads beside the library: the hash cache (WAL writes there) and the kept previews.
            hashes = (_stamp(cache_dir() / "hashes.sqlite"), _stamp(cache_dir() / "hashes.sqlite-wal"),
                      _stamp(cache_dir() / PREVIEWS_FOLDER))
            if self.made and self.made[0] is library and self.made[1] == hashes:
                return self.made[2]
            made = await asyncio.to_thread(lambda: json.dumps(library_listing(library, cache_dir())).encode())
            self.made = (library, hashes, made)
            return made


    def etag(self, body: bytes) -> str:
        """The listing's entity tag, hashed once per listing made."""
        if self.tagged is None or self.tagged[0] is not body:
            self.tagged = (body, f'"{hashlib.blake2b(body, digest_size=12).hexdigest()}"')
        return self.tagged[1]


def _quick_stamp() -> tuple[int, ...]:
    """What the pack's own changes touch: the hash cache, our records, kept previews, and each model folder's own
    entries."""
    cache = cache_dir()
    paths = [cache / "hashes.sqlite", cache / "hashes.sqlite-wal", cache / RECORDS_FOLDER, cache / PREVIEWS_FOLDER,
             *(folder for folders in library_folders().values() for folder in folders)]
    return tuple(_stamp(path) for path in paths)


def _stamp(path: Path) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return 0


def register(routes: web.RouteTableDef) -> None:
    listing = Listing()

    @routes.get(f"{PREFIX}/library")
    async def get_library(request: web.Request) -> web.Response:
        try:
            body = await listing.body()
        except Exception as exc:  # the tab shows this as a toast instead of an empty list
            log.exception("Intelligent Generation: library listing failed")
            return web.json_response(
                {"error": f"Reading the model folders failed ({exc}).",
                 "hint": "Check that ComfyUI's model folders (and extra_model_paths.yaml) are readable."},
                status=500,
            )
        # The tab revalidates (fetch's cache "no-cache"): an unchanged listing is a 304, not megabytes again.
        etag = listing.etag(body)
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
        return web.Response(body=body, content_type="application/json", headers=headers)

    @routes.get(f"{PREFIX}/models/{{kind}}/{{name:.+}}/preview")
    async def get_preview(request: web.Request) -> web.StreamResponse:
        """The preview image another tool left next to a model file ComfyUI lists; nothing else is reachable:
        the name must be one of ComfyUI's model files, and the image is the one the library found beside it."""
        kind, name = request.match_info["kind"], request.match_info["name"]
        image = await asyncio.to_thread(preview_file, kind, name)
        if image is None:
            return web.json_response({"error": f"no preview image for {kind} {name!r}"}, status=404)
        path, mime = image
        return web.FileResponse(path, headers={"Content-Type": mime, "Cache-Control": "no-cache",
                                               "X-Content-Type-Options": "nosniff"})

    @routes.get(f"{PREFIX}/settings")
    async def get_settings(request: web.Request) -> web.Response:
        """The settings as the Python side reads them, defaults included: what the nodes will use."""
        path = settings_file(folder_paths.get_user_directory(), _user(request))
        return web.json_response({"settings": read_settings(path).to_ids()})
