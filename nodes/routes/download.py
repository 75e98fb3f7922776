"""HTTP routes for model downloads and online candidates (under /intelligent-generation/, and /api/... too).

- POST /intelligent-generation/download {"kind", "source": "civitai" | "huggingface", "civitai_version"
  | "hf_repo" + "hf_file", "civitai_file"?, "folder_index"?, "save_as"?, "allow_pickle"?, "host"?,
  "confirm"?}: without `"confirm": true` it answers what it would download ({"status": "planned", ...})
  and writes nothing; with it, downloads and answers when done ({"status": "downloaded" |
  "already_present", "name" as ComfyUI lists it, "size", "sha256", "record", "job", ...}). 409 while
  another download runs; it goes on if the client disconnects. Progress arrives as server events
  "intelligent-generation.download-progress" {job, state, name, done, total, error}.
- GET  /intelligent-generation/download: the current or last download job.
- GET  /intelligent-generation/download/concepts: {"concepts", "styles"}, the only words a search may carry.
- POST /intelligent-generation/download/candidates {"concept", "kind", "base_model"?, "host"?}: online
  candidates for one concept of the pack's vocabulary (or a style name); only that name, the type and
  the base model are sent. Any other text is refused (400) before anything is sent.
Failures answer {"error", "reason"}: 400 bad input, 403 a CivitAI key needed or refused, 404 no such
target, 409 busy, 422 refused (format, pickle, kind, an existing file, disk space, no published hash),
502 the site or the transfer failed (a resumable .part is kept when bytes arrived), 503 rate limited.
The client picks a host among the known CivitAI hosts and a folder by index: never a URL or a path.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from ...services.library import base_model as bases
from ...services.online.download_target import KINDS, DownloadError, DownloadRequest
from ...services.online.session import HardenedSession, SettingsError
from ...services.online.suggest import search_candidates, searchable, searchable_names
from ..comfy import PREFIX, Notify, editor_only, lookup_request, pack_settings, send_event
from ..download_model import run_download
from ..metadata_fetcher import online_settings
from .jobs import Jobs

log = logging.getLogger(__name__)

STATUS = {"target": 400, "folder": 400, "settings": 400, "needs_key": 403, "key_refused": 403, "auth": 403,
          "not_found": 404, "busy": 409, "rate_limited": 503, "interrupted": 502, "redirect": 502, "http": 502,
          "connection": 502, "timeout": 502, "mismatch": 502, "not_a_file": 502, "size": 502, "too_large": 502,
          "proxy": 502, "tls": 502, "not_json": 502, "bad_json": 502, "unexpected": 502}


def _error(status: int, message: str, reason: str = "bad_request") -> web.Response:
    return web.json_response({"error": message, "reason": reason}, status=status)


def request_from_body(body: dict[str, Any]) -> tuple[DownloadRequest, int]:
    """The download the body names; raises DownloadError("target") for anything malformed."""
    def text(key: str) -> str:
        value = body.get(key, "")
        if not isinstance(value, str):
            raise DownloadError("target", f"{key} must be a string")
        return value.strip()

    source, version, index = body.get("source", "civitai"), body.get("civitai_version"), body.get("folder_index", 0)
    if source not in ("civitai", "huggingface"):
        raise DownloadError("target", "source must be civitai or huggingface")
    if isinstance(index, bool) or not isinstance(index, int):
        raise DownloadError("target", "folder_index must be a number")
    kind, save_as, allow_pickle = text("kind"), text("save_as"), body.get("allow_pickle") is True
    if source == "civitai":
        if isinstance(version, bool) or not isinstance(version, int):
            raise DownloadError("target", "civitai_version must be a model version id (a number)")
        return DownloadRequest(kind=kind, civitai_version=version, civitai_file=text("civitai_file") or None,
                               save_as=save_as, allow_pickle=allow_pickle), index
    return DownloadRequest(kind=kind, hf_repo=text("hf_repo") or None, hf_file=text("hf_file"), save_as=save_as,
                           allow_pickle=allow_pickle), index


def register(routes: web.RouteTableDef, notify: Notify = send_event) -> Jobs:
    jobs = Jobs()

    @routes.get(PREFIX + "/download")
    async def get_download(_request: web.Request) -> web.Response:
        return web.json_response({"job": jobs.status()})

    @routes.post(PREFIX + "/download")
    @editor_only
    async def post_download(request: web.Request) -> web.Response:
        body = await lookup_request(request)
        if isinstance(body, str):
            return _error(400, body)
        try:
            target, index = request_from_body(body)
            target = target.checked()
        except DownloadError as exc:
            return _error(400, str(exc), exc.reason)
        if target.allow_pickle and pack_settings().download_pickle_over_http != "allow":
            return _error(403, "pickle files (.ckpt, .pt, .bin) can run code and are not downloaded through the "
                          "editor's routes; use the Download Model node with allow_pickle, or allow it in "
                          "Settings > Intelligent Generation > Downloads", "pickle_refused")
        confirm = body.get("confirm") is True
        what = f"{target.kind}: " + (f"civitai {target.civitai_version}" if target.site == "civitai"
                                     else f"{target.hf_repo}/{target.hf_file}")
        if confirm and jobs.begin(what) is None:
            return web.json_response({"error": "a download is already running", "reason": "busy",
                                      "job": jobs.status()}, status=409)
        try:
            # In a thread: the event loop keeps serving (and sending the progress events) meanwhile.
            text, answer = await asyncio.to_thread(run_download, target, index, confirm, body.get("host"), notify)
        except DownloadError as exc:
            if confirm:
                jobs.end(state="failed", error=str(exc), reason=exc.reason)
            return web.json_response({"error": str(exc), "reason": exc.reason, "job": jobs.status() if confirm
                                      else None}, status=STATUS.get(exc.reason, 422))
        except Exception as exc:  # reported to the UI, and logged with its traceback
            log.exception("Intelligent Generation: download failed")
            if confirm:
                jobs.end(state="failed", error=str(exc), reason="internal")
            return _error(500, f"download failed: {exc}", "internal")
        if confirm:
            jobs.end(state="done", result={k: answer.get(k) for k in ("status", "kind", "name", "size", "sha256")})
        return web.json_response({**answer, "explanation": text, "job": jobs.status() if confirm else None})

    @routes.get(PREFIX + "/download/concepts")
    async def get_concepts(_request: web.Request) -> web.Response:
        return web.json_response(searchable_names())

    @routes.post(PREFIX + "/download/candidates")
    @editor_only
    async def post_candidates(request: web.Request) -> web.Response:
        body = await lookup_request(request)
        if isinstance(body, str):
            return _error(400, body)
        concept, kind, base = body.get("concept"), body.get("kind", "loras"), body.get("base_model")
        if not isinstance(concept, str) or not searchable(concept):
            return _error(400, "concept must be one of the pack's concept names (e.g. 'pixel art') or a style")
        if kind not in KINDS:
            return _error(400, f"kind must be one of {', '.join(KINDS)}")
        base = bases.canonical_base(base) if isinstance(base, str) else None
        try:
            settings = online_settings(body.get("host"))
        except SettingsError as exc:
            return _error(400, f"online settings not usable, nothing was sent: {exc}", "settings")

        def search() -> dict[str, Any]:
            with HardenedSession(settings) as session:
                family = bases.family_of(base) if base else "sd15"
                return search_candidates(concept, kind, family, base, session, limit=5).to_dict()

        return web.json_response(await asyncio.to_thread(search))

    return jobs
