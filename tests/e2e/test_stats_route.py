"""GET /intelligent-generation/stats on a real ComfyUI: the library as ComfyUI's folders hold it."""

from __future__ import annotations

import json
import urllib.request

from comfy_server import ROOT, ComfyServer


def test_stats_route_reports_the_library_cache_and_machine(server: ComfyServer) -> None:
    answer = server.get("/intelligent-generation/stats")
    models = answer["models"]
    # The tiny models plus the session's truncated checkpoint, which the index marks as a problem.
    assert models["by_kind"] == {"checkpoints": 4, "loras": 4, "vae": 0}
    assert models["by_base_model"]["loras"] == {"SD 1.5": 3, "SDXL 1.0": 1}
    assert answer["metadata"]["checkpoints"]["with_problems"] == 1
    assert answer["metadata"]["loras"]["with_civitai_metadata"] == 4  # their .civitai.info sidecars
    assert answer["metadata"]["all"]["total"] == 8
    assert answer["cache"]["parts"]["library.sqlite"] > 0  # the library index, in the pack's cache folder
    system = answer["system"]
    assert system["memory"]["total_bytes"] > 0 and system["cpu"]["logical_cores"] >= 1  # psutil ships with ComfyUI
    assert system["gpu"]["available"] or system["gpu"]["reason"]
    text = json.dumps(answer)
    assert str(server.base) not in text and str(ROOT) not in text and "tiny_photoreal" not in text
    # The frontend's api.fetchApi prefixes /api; ComfyUI serves the same route there.
    with urllib.request.urlopen(server.url + "/api/intelligent-generation/stats", timeout=60) as response:
        assert json.loads(response.read())["models"] == models
