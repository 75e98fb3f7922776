"""UI-format workflow -> API format, the way ComfyUI's frontend does it for the widgets we use.

Used to prove that the bundled UI workflow is consistent with the server's node
definitions and runs as a user who loads it would run it.
"""

from __future__ import annotations

from typing import Any

WIDGET_TYPES = {"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"}


def widget_names(definition: dict[str, Any]) -> list[str]:
    """Widget inputs in order, with the frontend's extra slots: `control_after_generate` after seeds, the
    upload button (its value is "image") after image pickers."""
    names: list[str] = []
    for section in ("required", "optional"):
        for name, spec in definition["input"].get(section, {}).items():
            kind, options = spec[0], spec[1] if len(spec) > 1 else {}
            if isinstance(kind, list) or kind in WIDGET_TYPES:
                names.append(name)
                if options.get("control_after_generate"):
                    names.append("__control__")
                if options.get("image_upload"):
                    names.append("__upload__")
    return names


def to_api(workflow: dict[str, Any], object_info: dict[str, Any]) -> dict[str, Any]:
    links = {link[0]: link for link in workflow["links"]}
    graph: dict[str, Any] = {}
    for node in workflow["nodes"]:
        if node["type"] in ("Note", "MarkdownNote") or node.get("mode", 0) != 0:
            continue
        definition = object_info[node["type"]]
        inputs: dict[str, Any] = {}
        values = list(node.get("widgets_values") or [])
        for name, value in zip(widget_names(definition), values, strict=True):
            if name not in ("__control__", "__upload__"):
                inputs[name] = value
        for slot in node.get("inputs", []):
            if slot.get("link") is not None:
                _, origin, origin_slot, *_ = links[slot["link"]]
                inputs[slot["name"]] = [str(origin), origin_slot]
        graph[str(node["id"])] = {"class_type": node["type"], "inputs": inputs}
    return graph
