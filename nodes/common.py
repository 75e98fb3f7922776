"""What the nodes share: our socket types and the bridge from ComfyUI's folders to the services."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import folder_paths
from aiohttp import web
from comfy_api.latest import io

from ..services.feedback import record_from_image
from ..services.library import Library, model_files, scan
from ..services.online import CIVITAI_HOSTS
from ..services.request_body import MAX_BODY_BYTES, parse_object
from ..services.request_guard import refusal
from ..services.settings import PackSettings, read_settings, settings_file

CATEGORY = "Intelligent Generation"

Analysis = io.Custom("IG_ANALYSIS")
Selection = io.Custom("IG_SELECTION")
LoraPlan = io.Custom("IG_LORA_PLAN")
GenerationInfo = io.Custom("IG_GENERATION_INFO")


def library_folders() -> dict[str, list[Path]]:
    """ComfyUI's own model folders, extra_model_paths.yaml included."""
    return {kind: [Path(p) for p in folder_paths.get_folder_paths(kind)] for kind in ("checkpoints", "loras", "vae")}


def load_library() -> Library:
    """The indexed library; the index in our cache folder makes this a stat of each file after the first time."""
    return scan(library_folders(), cache_dir())


def vram_budget_gb() -> float | None:
    """Total memory of the device ComfyUI samples on (the system's on the CPU), as ComfyUI reads it;
    None under DirectML, where ComfyUI only has a placeholder figure."""
    import comfy.model_management as mm

    if getattr(mm, "directml_enabled", False):
        return None
    return float(mm.get_total_memory(mm.get_torch_device())) / 1024**3


def library_signature() -> str:
    """Changes whenever a model file or its sidecar is added, removed or rewritten; cheap (stat only), and
    the scan's own walk: a link loop is visited once.

    A short digest: ComfyUI stores it in the prompt, which is embedded in every saved image.
    """
    parts = [f"{kind}/{name}:{signature}" for kind, folders in library_folders().items() for folder in folders
             for _path, name, signature, _sidecars, _size in model_files(folder)]
    return hashlib.sha256("|".join(sorted(parts)).encode("utf-8", "surrogateescape")).hexdigest()[:16]


def pack_settings() -> PackSettings:
    """The settings the editor stored for the default user; defaults for API-only users."""
    return read_settings(settings_file(folder_paths.get_user_directory()))


def cache_dir() -> Path:
    return Path(folder_paths.get_user_directory()) / "intelligent_generation"


def full_path(kind: str, name: str) -> str:
    return folder_paths.get_full_path_or_raise(kind, name)


def saved_record(image: str) -> dict[str, Any]:
    """Our record embedded in an image of ComfyUI's output folder; paths outside it are refused."""
    output = Path(folder_paths.get_output_directory()).resolve()
    path = (output / image.strip()).resolve()
    if not path.is_relative_to(output):
        raise FileNotFoundError(f"'{image}' is outside ComfyUI's output folder.")
    if not path.is_file():
        raise FileNotFoundError(f"No image '{image}' in ComfyUI's output folder.")
    record = record_from_image(path)
    if record is None:
        raise FileNotFoundError(f"'{image}' carries no Intelligent Generation record; save it with Save With Metadata.")
    return record


async def json_body(request: Any) -> dict[str, Any] | str:
    """The JSON object a route was sent, or what is wrong with it, for a 400 (services/request_body)."""
    if not request.can_read_body:
        return {}
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return f"the body is larger than {MAX_BODY_BYTES // 1024} KiB"
    return parse_object(await request.read())


async def lookup_request(request: Any) -> dict[str, Any] | str:
    """The JSON object a route that goes online was sent, or what is wrong with it (a problem for a 400):
    not a JSON object, or a host other than the known CivitAI hosts."""
    body = await json_body(request)
    if isinstance(body, str):
        return body
    host = body.get("host")
    if host is not None and (not isinstance(host, str) or host not in CIVITAI_HOSTS):
        return f"host must be one of {', '.join(CIVITAI_HOSTS)}"
    return body


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def editor_only(handler: Handler) -> Handler:
    """For a route that changes something or goes online: 403 unless the editor or a script on this machine
    sent it (services/request_guard: no foreign or `null` origin, no rebinding Host, JSON bodies only)."""
    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        from comfy.cli_args import args

        problem = refusal(request.method, request.headers, [str(args.listen or "")])
        if problem:
            return web.json_response({"error": problem, "reason": "forbidden"}, status=403)
        return await handler(request)

    return guarded
