"""Routes for ratings: the web UI's star control, export and delete (all local)."""

from __future__ import annotations

from aiohttp import web

from ...services.recommend.feedback import FeedbackError, FeedbackStore
from ..comfy import PREFIX, cache_dir, editor_only, json_body, saved_record


def register(routes: web.RouteTableDef) -> None:
    @routes.post(f"{PREFIX}/feedback")
    @editor_only
    async def rate(request: web.Request) -> web.Response:
        body = await json_body(request)
        if isinstance(body, str):
            return web.json_response({"error": body}, status=400)
        image, rating, comment = body.get("image"), body.get("rating"), body.get("comment", "")
        if not isinstance(image, str) or not isinstance(comment, str):
            return web.json_response({"error": "image and comment must be text"}, status=400)
        try:
            row = FeedbackStore(cache_dir()).rate(saved_record(image),
                                                  int(rating) if isinstance(rating, (int, str)) else 0, comment)
        except (FeedbackError, OSError, ValueError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"rated": row["generation_id"], "rating": row["rating"]})

    @routes.get(f"{PREFIX}/feedback")
    async def export(request: web.Request) -> web.Response:
        return web.json_response({"ratings": FeedbackStore(cache_dir()).export()})

    @routes.delete(f"{PREFIX}/feedback")
    @editor_only
    async def delete_all(request: web.Request) -> web.Response:
        return web.json_response({"deleted": FeedbackStore(cache_dir()).delete()})

    @routes.delete(f"{PREFIX}/feedback/{{generation_id}}")
    @editor_only
    async def delete_one(request: web.Request) -> web.Response:
        deleted = FeedbackStore(cache_dir()).delete(request.match_info["generation_id"])
        return web.json_response({"deleted": deleted}, status=200 if deleted else 404)
