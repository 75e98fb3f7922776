"""Calling the pack's routes on a running ComfyUI from tests: plain JSON requests, and a POST that
listens on ComfyUI's websocket for the progress events it sends until the answer."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
import uuid
from typing import Any

from comfy_server import ComfyServer


def call(server: ComfyServer, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """Status and JSON answer; error statuses are answers too."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(server.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def post_with_events(server: ComfyServer, path: str, body: dict[str, Any], event: str) -> tuple[int, Any, list[dict[str, Any]]]:
    """POST `body` while listening for `event`: status, answer and the events up to the one that is not
    "running" (each event's data has a `state`)."""
    import aiohttp

    async def run() -> tuple[int, Any, list[dict[str, Any]]]:
        events: list[dict[str, Any]] = []
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(f"{server.url}/ws?clientId={uuid.uuid4().hex}") as ws:
                async def listen() -> None:
                    async for message in ws:
                        if message.type == aiohttp.WSMsgType.TEXT:
                            data = json.loads(message.data)
                            if data.get("type") == event:
                                events.append(data["data"])
                                if data["data"]["state"] != "running":
                                    return

                listener = asyncio.create_task(listen())
                async with session.post(f"{server.url}/api{path}", json=body) as response:
                    status, answer = response.status, await response.json()
                await asyncio.wait_for(listener, timeout=30)
        return status, answer, events

    return asyncio.run(run())
