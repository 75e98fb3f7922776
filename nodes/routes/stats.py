"""GET /intelligent-generation/stats (also under /api/...): library statistics for the web UI.

Read-only: counts from the library index, hashes only from the cache, records only from the cache
folder; nothing is hashed, nothing goes online, no path or file name is in the answer.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from ...services.library.stats import collect_stats
from ..comfy import PREFIX, cache_dir, load_library

log = logging.getLogger(__name__)



def register(routes: web.RouteTableDef) -> None:
    @routes.get(f"{PREFIX}/stats")
    async def get_stats(_request: web.Request) -> web.Response:
        try:
            # Scanning and reading records block; the event loop keeps serving meanwhile.
            stats = await asyncio.to_thread(lambda: collect_stats(load_library(), cache_dir()))
        except Exception as exc:  # the UI shows this instead of empty statistics
            log.exception("Intelligent Generation: library statistics failed")
            return web.json_response(
                {"error": f"Library statistics failed ({exc}).",
                 "hint": "Check that ComfyUI's model folders (and extra_model_paths.yaml) are readable."},
                status=500,
            )
        return web.json_response(stats)
