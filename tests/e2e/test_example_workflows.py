"""Every bundled example workflow: complete, listed as a template, in step with its API twin, and runnable.

The browser test (tests/browser) loads the same workflows from the templates browser and queues them
as a user would, online lookups included; here they run over HTTP as their converted API form.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from comfy_server import ROOT, ComfyServer
from workflow_convert import to_api

FOLDER = ROOT / "example_workflows"
WORKFLOWS = sorted(p.stem for p in FOLDER.glob("*.json"))
NOTES = {"Note", "MarkdownNote"}


def offline_and_small(graph: dict[str, Any]) -> dict[str, Any]:
    """64x64 images (the tiny models draw noise; CPU time) and no online lookup: this server has no
    CivitAI to ask, and tests never reach the internet."""
    graph = copy.deepcopy(graph)
    for node in graph.values():
        if node["class_type"] == "EmptyLatentImage":
            for dim in ("width", "height"):
                if isinstance(node["inputs"][dim], int):  # not a size read from an image
                    node["inputs"][dim] = 64
        if node["class_type"] == "IntelligentMetadataFetcher":
            node["inputs"]["online_lookup"] = False
    return graph


def test_every_workflow_is_a_template() -> None:
    assert {"intelligent_text_to_image", "assisted_selection", "library_metadata_fetch",
            "reproduce_from_image"} <= set(WORKFLOWS)


@pytest.mark.parametrize("name", WORKFLOWS)
def test_workflow_is_complete_and_served(server: ComfyServer, name: str) -> None:
    ui = json.loads((FOLDER / f"{name}.json").read_text())
    info = server.get("/object_info")
    types = {node["type"] for node in ui["nodes"]}
    assert types - NOTES <= set(info), "every node type exists in ComfyUI with the pack"
    assert types & NOTES, "a note inside explains the workflow"
    assert any((FOLDER / f"{name}{ext}").is_file() for ext in (".jpg", ".png", ".webp")), "a same-name thumbnail"
    assert name in server.get("/api/workflow_templates")["intelligent_generation"]


@pytest.mark.parametrize("name", WORKFLOWS)
def test_api_twin_matches_the_workflow(server: ComfyServer, name: str) -> None:
    info = server.get("/object_info")
    converted = to_api(json.loads((FOLDER / f"{name}.json").read_text()), info)
    twin = json.loads((FOLDER / "api" / f"{name}.json").read_text())
    assert set(twin) == set(converted)
    for node_id, node in twin.items():
        assert node["class_type"] == converted[node_id]["class_type"]
        # A twin may leave optional inputs at their defaults out; what it gives must be the workflow's.
        assert node["inputs"].items() <= converted[node_id]["inputs"].items(), node_id
        assert set(info[node["class_type"]]["input"]["required"]) <= set(node["inputs"]), node_id


@pytest.mark.parametrize("name", WORKFLOWS)
def test_workflow_runs_on_the_tiny_models(server: ComfyServer, name: str) -> None:
    info = server.get("/object_info")
    graph = offline_and_small(to_api(json.loads((FOLDER / f"{name}.json").read_text()), info))
    entry = server.run_prompt(graph)
    output_nodes = {k for k, node in graph.items() if info[node["class_type"]].get("output_node")}
    assert output_nodes and output_nodes <= set(entry["outputs"])
    for node_id, node in graph.items():
        if node["class_type"].startswith("Intelligent") and node["class_type"] != "IntelligentSaveWithMetadata":
            assert entry["outputs"][node_id]["text"][0].strip(), f"{node['class_type']} explains itself"
    saved = server.output_files(entry)
    assert all(path.is_file() for path in saved)
    assert bool(saved) == any(n["class_type"] == "IntelligentSaveWithMetadata" for n in graph.values())
