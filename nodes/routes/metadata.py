"""HTTP routes for the web UI's model library (all under /intelligent-generation/, and /api/... too).

- GET  /intelligent-generation/models/{kind}/{name}/metadata: what is known of one model file: its
  cached hashes, our stored record, the local metadata. Read-only: never hashes, never goes online.
- POST /intelligent-generation/metadata/fetch {"kind"?, "name"?, "host"?, "write_sidecars"?}: runs
  the Metadata Fetcher for one model (kind + name), a folder kind (kind) or the whole library (no
  kind, or "all") and answers when it is done with the counts the command line prints (files,
  hashed, hash_cache_hits, found, not_found, errors, requests) plus the job; 409 while another
  fetch runs. The fetch goes on if the client disconnects.
- GET  /intelligent-generation/metadata/fetch: the current or last job (after a page reload).
- POST /intelligent-generation/models/{kind}/{name}/name-search {"confirm"?, "host"?}: for a file CivitAI does
  not know by its hash, a search by the file's stem; without "confirm": true it answers what it would send
  ({"status": "planned", "sent": {query, types, baseModels}}) and sends nothing.
- POST /intelligent-generation/updates {"host"?}: newer CivitAI versions, for the same base model, of the models
  whose record knows their CivitAI ids (only those ids are sent); a job like a fetch. Nothing is downloaded.
- POST /intelligent-generation/duplicates: hashes the files that may be copies of each other (one size and
  fingerprint) and answers the library's copies with the bytes they waste; nothing is deleted. A job like a fetch
  (409 while one runs).
Progress arrives as server events "intelligent-generation.fetch-progress" {job, state, phase, done,
total, counts?, error?}. Names from the client are resolved only among ComfyUI's model files
(folder_paths), and the client chooses a host only among the known CivitAI hosts: never a URL.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import folder_paths
from aiohttp import web

from ...services.library.describe import describe
from ...services.library.duplicates import library_copies, summary
from ...services.library.entries import KINDS
from ...services.library.hashing import HashCache
from ...services.library.model_records import load_record, public_view
from ...services.library.scan import Library
from ...services.online.lookups import FetchOptions, FetchTarget, fetch_metadata, targets_from_library
from ...services.online.name_lookup import planned as planned_search
from ...services.online.name_lookup import search_by_name
from ...services.online.session import OnlineError, OnlineSettings, SettingsError
from ...services.online.updates import check_updates, known_on_civitai
from ...services.online.updates import counts as update_counts
from ..comfy import PREFIX, Notify, cache_dir, editor_only, load_library, lookup_request, send_event
from ..metadata_fetcher import online_settings, preview_level
from .jobs import Jobs

log = logging.getLogger(__name__)

EVENT = "intelligent-generation.fetch-progress"


def resolve(kind: str, name: str) -> str | None:
    """A model file's path, only if ComfyUI lists `name` among the `kind` models (no other file is reachable)."""
    if kind not in KINDS or "\x00" in name or name not in folder_paths.get_filename_list(kind):
        return None
    return folder_paths.get_full_path(kind, name)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def model_metadata(kind: str, name: str, path: str) -> dict[str, Any]:
    hashes = HashCache(cache_dir()).get(path)
    record = load_record(cache_dir(), hashes.sha256) if hashes else None
    entry = describe(kind, Path(path), name)
    local = {k: getattr(entry, k) for k in ("base_model", "family", "title", "tags", "trigger_words",
                                            "preferred_weight", "description", "sources", "problems")}
    return {
        "kind": kind,
        "name": name,
        "hashes": {"sha256": hashes.sha256, "autov2": hashes.autov2, "autov3": hashes.autov3, "blake3": hashes.blake3}
        if hashes else None,
        "record": public_view(record) if record else None,
        "local": local,
    }


FETCH_EVENT_KEYS = ("job", "state", "what", "phase", "name", "done", "total", "counts", "error")
STARTING: dict[str, Any] = {"phase": "starting", "name": "starting", "done": 0, "total": 0, "counts": None}


def run_job(jobs: Jobs, work: Callable[[Callable[[str, int, int], None]], dict[str, Any]]) -> dict[str, Any]:
    """Run the begun job to its end (blocking; call it in a worker thread) and return its final state.
    `work(progress)` does the job and answers its `counts` and `results`."""
    last = [("", -1)]

    def progress(phase: str, done: int, total: int) -> None:
        percent = 100 * done // max(total, 1)
        if (phase, percent) != last[0]:  # one event per percent, not per buffer
            last[0] = (phase, percent)
            jobs.update(phase=phase, name="hashing" if phase == "hashing" else "looking up", done=done, total=total)

    try:
        jobs.update(phase="scanning", name="scanning the model folders")
        outcome = work(progress)
        jobs.end(state="done", phase="done", name="done", counts=outcome["counts"], results=outcome["results"])
    except Exception as exc:  # reported to the UI as a failed job, and logged with its traceback
        log.exception("Intelligent Generation: %s failed", (jobs.status() or {}).get("what", "job"))
        jobs.end(state="failed", phase="failed", name="failed", error=str(exc))
    final = jobs.status()
    assert final is not None
    return final


def fetch_work(targets: Callable[[], list[FetchTarget]], settings: OnlineSettings,
               write_sidecars: bool) -> Callable[[Callable[[str, int, int], None]], dict[str, Any]]:
    def work(progress: Callable[[str, int, int], None]) -> dict[str, Any]:
        report = fetch_metadata(targets(), cache_dir(), settings,
                                FetchOptions(write_sidecars=write_sidecars, preview_max_nsfw=preview_level()),
                                progress=progress)
        return {"counts": report.counts.to_dict(),
                "results": [{"kind": r.target.kind, "name": r.target.name, "outcome": r.outcome, "errors": r.errors}
                            for r in report.results]}
    return work


def updates_work(settings: OnlineSettings) -> Callable[[Callable[[str, int, int], None]], dict[str, Any]]:
    """Newer CivitAI versions, for the same base model, of the models whose record knows their ids."""
    def work(progress: Callable[[str, int, int], None]) -> dict[str, Any]:
        known = known_on_civitai(load_library(), cache_dir())
        checks = check_updates(known, settings, progress=lambda done, total: progress("lookup", done, total))
        return {"counts": update_counts(checks), "results": [{**c.to_dict(), "summary": c.describe()} for c in checks]}
    return work


def duplicates_work(progress: Callable[[str, int, int], None]) -> dict[str, Any]:
    """Copies confirmed by hashing the files of one size and fingerprint (only those are read whole)."""
    groups = library_copies(load_library(), cache_dir(), confirm=True,
                            progress=lambda done, total: progress("hashing", done, total))
    return {"counts": summary(groups), "results": [g.to_dict() for g in groups]}


def register(routes: web.RouteTableDef, notify: Notify = send_event) -> Jobs:
    jobs = Jobs(notify, EVENT, FETCH_EVENT_KEYS)

    @routes.get(PREFIX + "/models/{kind}/{name:.+}/metadata")
    async def get_model_metadata(request: web.Request) -> web.Response:
        kind, name = request.match_info["kind"], request.match_info["name"]
        path = resolve(kind, name)
        if path is None:
            return _error(404, f"no {kind} model named {name!r}")
        return web.json_response(await asyncio.to_thread(model_metadata, kind, name, path))

    @routes.get(PREFIX + "/metadata/fetch")
    async def get_fetch(_request: web.Request) -> web.Response:
        return web.json_response({"job": jobs.status()})

    @routes.post(PREFIX + "/metadata/fetch")
    @editor_only
    async def post_fetch(request: web.Request) -> web.Response:
        """Runs the fetch and answers when it is done: the counts (as the command line prints them) at the
        top level, with the job and each file's outcome. Progress meanwhile as server events."""
        body = await lookup_request(request)
        if isinstance(body, str):
            return _error(400, body)
        kind, name, host = body.get("kind"), body.get("name"), body.get("host")
        if kind == "all":
            kind = None
        if kind is not None and kind not in KINDS:
            return _error(400, f"kind must be one of {', '.join(KINDS)} or all")
        targets: Callable[[], list[FetchTarget]]
        if name is not None:
            path = resolve(kind, name) if isinstance(kind, str) and isinstance(name, str) else None
            if path is None or not isinstance(kind, str) or not isinstance(name, str):
                return _error(404, f"no {kind} model named {name!r}")
            one = Library([describe(kind, Path(path), name)])
            targets, what = (lambda: targets_from_library(one)), f"{kind}/{name}"
        else:
            kinds = [kind] if kind else None
            targets, what = (lambda: targets_from_library(load_library(), kinds)), kind or "library"
        try:
            settings = online_settings(host)
        except SettingsError as exc:
            return _error(400, f"online settings not usable, nothing was sent: {exc}")
        job = jobs.begin(what, **STARTING)
        if job is None:
            return web.json_response({"error": "a metadata fetch is already running", "job": jobs.status()},
                                     status=409)
        # In a thread: the event loop keeps serving (and sending the progress events) meanwhile.
        work = fetch_work(targets, settings, bool(body.get("write_sidecars", False)))
        final = await asyncio.to_thread(run_job, jobs, work)
        if final["state"] != "done":
            return web.json_response({"error": f"metadata fetch failed: {final['error']}", "job": final}, status=500)
        return web.json_response({**final["counts"], "job": final})

    @routes.post(PREFIX + "/models/{kind}/{name:.+}/name-search")
    @editor_only
    async def post_name_search(request: web.Request) -> web.Response:
        """Search CivitAI by the file's stem, for a model ComfyUI lists. Without "confirm": true it answers what
        it would send and sends nothing; with it, sends exactly that and answers the candidates."""
        kind, name = request.match_info["kind"], request.match_info["name"]
        body = await lookup_request(request)
        if isinstance(body, str):
            return _error(400, body)
        path = resolve(kind, name)
        entry = await asyncio.to_thread(lambda: load_library().find(kind, name)) if path else None
        if entry is None:
            return _error(404, f"no {kind} model named {name!r}")
        try:
            settings = online_settings(body.get("host"))
            plan = planned_search(entry, settings)
        except (SettingsError, ValueError) as exc:
            return _error(400, f"nothing was sent: {exc}")
        if body.get("confirm") is not True:
            return web.json_response({"status": "planned", **plan.to_dict()})
        try:
            found = await asyncio.to_thread(search_by_name, entry, settings)
        except OnlineError as exc:
            return _error(502, f"CivitAI search failed: {exc}")
        return web.json_response({"status": "searched", **found.to_dict()})

    @routes.post(PREFIX + "/updates")
    @editor_only
    async def post_updates(request: web.Request) -> web.Response:
        """Asks CivitAI (only the model ids it gave us, 100 a request) for newer versions of the library's
        models for the same base model; answers every model checked. Nothing is downloaded."""
        body = await lookup_request(request)
        if isinstance(body, str):
            return _error(400, body)
        try:
            settings = online_settings(body.get("host"))
        except SettingsError as exc:
            return _error(400, f"online settings not usable, nothing was sent: {exc}")
        job = jobs.begin("updates", **STARTING)
        if job is None:
            return web.json_response({"error": "a metadata fetch is running; try again when it is done",
                                      "job": jobs.status()}, status=409)
        final = await asyncio.to_thread(run_job, jobs, updates_work(settings))
        if final["state"] != "done":
            return web.json_response({"error": f"update check failed: {final['error']}", "job": final}, status=502)
        return web.json_response({**final["counts"], "models": final["results"], "job": final})

    @routes.post(PREFIX + "/duplicates")
    @editor_only
    async def post_duplicates(request: web.Request) -> web.Response:
        """Confirms the library's possible copies by hashing them (nothing goes online, nothing is deleted) and
        answers the groups found; progress as the fetch's server events, one hashing job at a time."""
        body = await lookup_request(request)  # a JSON object, as every changing route takes
        if isinstance(body, str):
            return _error(400, body)
        job = jobs.begin("duplicates", **STARTING)
        if job is None:
            return web.json_response({"error": "a metadata fetch is running; try again when it is done",
                                      "job": jobs.status()}, status=409)
        final = await asyncio.to_thread(run_job, jobs, duplicates_work)
        if final["state"] != "done":
            return web.json_response({"error": f"finding duplicates failed: {final['error']}", "job": final},
                                     status=500)
        return web.json_response({**final["counts"], "duplicates": final["results"], "job": final})

    return jobs
