"""A stranger against a real ComfyUI with the pack: requests from other web pages, crafted texts, names that
become paths. Each case replays an attack that once worked (issue: hostile input) or one that held."""

from __future__ import annotations

import http.client
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from comfy_server import ComfyServer, load_api_workflow

HOSTILE_LORA = "<lora:a:" + "1" * 5_000  # froze the server for 27 s to 66 s with the old patterns
DOWNLOAD = {"source": "civitai", "civitai_version": 801, "kind": "loras", "confirm": True, "allow_pickle": True}


def raw(server: ComfyServer, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, Any]:
    """A request with exactly these headers (Host included), as a browser or a rebinding page sends it."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for key, value in {"Host": f"127.0.0.1:{server.port}", **headers}.items():
            connection.putheader(key, value)
        connection.putheader("Content-Length", str(len(body or b"")))
        connection.endheaders(body or b"")
        response = connection.getresponse()
        text = response.read()
        return response.status, json.loads(text) if text.startswith((b"{", b"[")) else text.decode(errors="replace")
    finally:
        connection.close()


def _models(server: ComfyServer) -> set[str]:
    return {p.name for p in (server.base / "models").rglob("*") if p.is_file()}


# Every route that changes something or goes online (the later ones hash, ask CivitAI or search by a file name).
CHANGING = ["/intelligent-generation/download", "/api/intelligent-generation/download",
            "/intelligent-generation/download/candidates", "/intelligent-generation/metadata/fetch",
            "/intelligent-generation/feedback", "/intelligent-generation/duplicates", "/intelligent-generation/updates",
            "/intelligent-generation/models/loras/cat_ears_sd15.safetensors/name-search"]


@pytest.mark.parametrize("headers", [
    {"Origin": "null", "Content-Type": "text/plain"},
    {"Origin": "", "Content-Type": "text/plain"},
    {"Origin": "file://", "Content-Type": "application/json"},
    {"Origin": "null", "Content-Type": "application/json"},
    {"Origin": "http://evil.example", "Content-Type": "text/plain"},
    {"Content-Type": "text/plain"},  # a form or a "simple" fetch without an Origin the server can see
    {"Content-Type": "application/x-www-form-urlencoded"},
    {"Host": "rebind.example:8188", "Origin": "http://rebind.example:8188", "Content-Type": "application/json"},
    {"Host": "rebind.example", "Content-Type": "application/json"},
])
@pytest.mark.parametrize("path", CHANGING)
def test_other_pages_cannot_change_anything(server: ComfyServer, path: str, headers: dict[str, str]) -> None:
    before = _models(server)
    body = json.dumps({**DOWNLOAD, "concept": "pixel art", "image": "x.png", "rating": 5}).encode()
    status, answer = raw(server, "POST", path, body, headers)
    assert status == 403, answer
    if answer:  # ComfyUI's own check answers a foreign Origin on a loopback Host first, with an empty 403
        assert answer["reason"] == "forbidden" and str(server.base) not in json.dumps(answer)
    assert _models(server) == before


def test_deletes_from_other_pages_are_refused(server: ComfyServer) -> None:
    status, _ = raw(server, "DELETE", "/intelligent-generation/feedback", None, {"Origin": "null"})
    assert status == 403
    status, _ = raw(server, "DELETE", "/intelligent-generation/feedback", None, {"Host": "rebind.example"})
    assert status == 403


def test_a_pickle_is_refused_over_http_even_from_the_editor(server: ComfyServer) -> None:
    headers = {"Origin": f"http://127.0.0.1:{server.port}", "Content-Type": "application/json"}
    before = _models(server)
    status, answer = raw(server, "POST", "/intelligent-generation/download", json.dumps(DOWNLOAD).encode(), headers)
    assert status == 403 and answer["reason"] == "pickle_refused" and "Download Model node" in answer["error"]
    assert _models(server) == before


def test_the_editor_itself_still_passes(server: ComfyServer) -> None:
    headers = {"Origin": f"http://127.0.0.1:{server.port}", "Content-Type": "application/json"}
    status, answer = raw(server, "POST", "/intelligent-generation/download/candidates",
                         json.dumps({"concept": "no such concept, free text"}).encode(), headers)
    assert status == 400 and "concept" in answer["error"]  # past the guard, refused by the route's own check


def test_a_crafted_lora_tag_does_not_freeze_the_server(server: ComfyServer) -> None:
    graph = load_api_workflow()
    graph["1"]["inputs"].update(prompt=f"photo of a cat {HOSTILE_LORA}", use_ollama=False)
    graph["5"]["inputs"].update(width=64, height=64)
    latencies: list[float] = []
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            start = time.monotonic()
            server.get("/system_stats", timeout=60)
            latencies.append(time.monotonic() - start)
            time.sleep(0.05)

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        entry = server.run_prompt(graph, timeout=120)
    finally:
        done.set()
        poller.join()
    assert server.output_files(entry)
    # The server kept answering while the prompt ran (the old patterns held the GIL for a minute).
    assert latencies and max(latencies) < 5, max(latencies)


@pytest.mark.parametrize("inputs, message", [
    ({"subfolder": "x\uff0f\u2025\uff0f\u2025\uff0fig_escape"}, "'..'"),
    ({"filename_mode": "custom", "name_pattern": "x\uff0f\u2025\uff0f\u2025\uff0fig_escape_{counter}"}, "'..'"),
    ({"filename_mode": "custom", "name_pattern": "\uff0ftmp\uff0fig_escape_{counter}"}, "absolute"),
    ({"subfolder": "\uff0ftmp\uff0fig_escape"}, "absolute"),
])
def test_names_that_normalise_into_paths_are_refused(server: ComfyServer, inputs: dict[str, str], message: str) -> None:
    graph = load_api_workflow()
    graph["1"]["inputs"].update(use_ollama=False)
    graph["5"]["inputs"].update(width=64, height=64)
    graph["8"]["inputs"].update(inputs)
    with pytest.raises(RuntimeError, match="400") as err:
        server.run_prompt(graph)
    assert message in str(err.value)
    for where in (server.base.parent, server.base, Path("/tmp")):
        assert not list(where.glob("ig_escape*"))


EDITOR = {"Content-Type": "application/json"}


@pytest.mark.parametrize("path", [p for p in CHANGING if not p.startswith("/api/")])
@pytest.mark.parametrize("body", [b"[" * 50_000 + b"]" * 50_000, b'{"kind": NaN}', b'{"kind": "a", "kind": "b"}',
                                  b'["not", "an", "object"]', b'{"host": ["https://civitai.com"]}', b"{"])
def test_malformed_bodies_are_a_400_with_the_reason(server: ComfyServer, path: str, body: bytes) -> None:
    status, answer = raw(server, "POST", path, body, EDITOR)
    assert status == 400, answer
    assert isinstance(answer, dict) and answer["error"]


def test_a_body_of_120_mb_is_refused_unread_and_the_server_stays_up(server: ComfyServer) -> None:
    status, answer = raw(server, "POST", "/intelligent-generation/duplicates", b" " * (120 * 2**20), EDITOR)
    assert status in (400, 413), answer
    assert raw(server, "GET", "/intelligent-generation/settings", None, {})[0] == 200


def test_a_rating_of_a_file_name_too_long_is_a_400(server: ComfyServer) -> None:
    body = json.dumps({"image": "x" * 300 + ".png", "rating": 5}).encode()
    status, answer = raw(server, "POST", "/intelligent-generation/feedback", body, EDITOR)
    assert status == 400 and isinstance(answer, dict) and answer["error"]
