"""The web extension's HTTP routes, all under one prefix (comfy.PREFIX): `library` (the model list, previews,
settings), `metadata` (lookups, updates, duplicates), `download`, `feedback` (ratings), `stats`; `jobs` is the
one job class of the routes that start long work."""

from __future__ import annotations

from aiohttp import web

from . import download, feedback, library, metadata, stats


def register(routes: web.RouteTableDef) -> None:
    for module in (library, metadata, feedback, stats, download):
        module.register(routes)
