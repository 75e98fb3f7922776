"""What the nodes share: our socket types and the bridge from ComfyUI's folders to the services."""

from __future__ import annotations

import functools
import logging
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

import folder_paths
import nodes as comfy_nodes
from aiohttp import web
from comfy_api.latest import io

from ..services.library.scan import Library, ScanState, fingerprint, remember_listings, scan, stale, sweep
from ..services.online.session import CIVITAI_HOSTS
from ..services.recommend.checkpoint import SelectionDict
from ..services.recommend.feedback import record_from_image
from ..services.server.request_body import MAX_BODY_BYTES, parse_object
from ..services.server.request_guard import refusal
from ..services.server.settings import PackSettings, read_settings, settings_file

CATEGORY = "Intelligent Generation"

Analysis = io.Custom("IG_ANALYSIS")
Selection = io.Custom("IG_SELECTION")
LoraPlan = io.Custom("IG_LORA_PLAN")
GenerationInfo = io.Custom("IG_GENERATION_INFO")


class SelectionPayload(SelectionDict, total=False):
    """What an IG_SELECTION socket carries: the selection (IG_LORA_PLAN's is a LoraPlanDict), with the analysis
    it was chosen for."""

    analysis: dict[str, Any]


def library_folders() -> dict[str, list[Path]]:
    """ComfyUI's own model folders, extra_model_paths.yaml included."""
    return {kind: [Path(p) for p in folder_paths.get_folder_paths(kind)] for kind in ("checkpoints", "loras", "vae")}


def apply_loras(model: Any, clip: Any, loras: Iterable[tuple[str, float]], node: str,
                remedy: str = "re-download it or remove it from the loras folder") -> tuple[Any, Any]:
    """The model and CLIP with each LoRA at its weight, through ComfyUI's own LoraLoader; a file that fails to
    load stops the node with an error that names it and says what to do (`remedy`)."""
    loader = comfy_nodes.LoraLoader()
    for name, weight in loras:
        try:
            model, clip = loader.load_lora(model, clip, name, weight, weight)
        except Exception as exc:
            raise ValueError(f"{node}: applying {name} failed ({exc}). The file may be corrupt; {remedy}.") from exc
    return model, clip


def encode(clip: Any, *texts: str) -> list[Any]:
    """Each text as conditioning, through ComfyUI's own CLIPTextEncode."""
    encoder = comfy_nodes.CLIPTextEncode()
    return [encoder.encode(clip, text)[0] for text in texts]


SWEEP_S = 300.0  # how often a stat of every model file looks for files rewritten in place
log = logging.getLogger(__name__)

Notify = Callable[[str, dict[str, Any]], None]  # (event, data): how long work reports to the web UI


def send_event(event: str, data: dict[str, Any]) -> None:
    from server import PromptServer  # ComfyUI's; imported late so this module imports without a server

    server: Any = PromptServer  # its `instance` is set when ComfyUI's server starts
    server.instance.send_sync(event, data)


def server_events() -> Notify | None:
    """send_event when ComfyUI's server runs (not when nodes are executed in tests)."""
    server = sys.modules.get("server")
    return send_event if getattr(getattr(server, "PromptServer", None), "instance", None) is not None else None


PREFIX = "/intelligent-generation"  # every route of the pack, also under /api (the frontend's fetchApi)
_sweeper: list[threading.Thread] = []
SCANS = ScanState()  # what this server knows of its model folders between queued prompts (library/scan.py)


def load_library() -> Library:
    """The indexed library: a stat per model folder when nothing changed (services/library/folder_watch.py)."""
    _start_sweeper()
    remember_listings(cache_dir(), SCANS)  # the files a prompt uses are checked (reloaded_if_stale), the rest swept
    return scan(library_folders(), cache_dir(), SCANS)


def reloaded_if_stale(library: Library, used: list[tuple[str, str | None]]) -> Library | None:
    """The library read again when one of the files about to be used was rewritten in place since it was read
    (a new copy under the old name); None when they are all as read."""
    changed = stale(library, [(kind, name) for kind, name in used if name])
    if not changed:
        return None
    log.info("Intelligent Generation: %s changed on disk; reading it again", ", ".join(changed))
    return load_library()


def _start_sweeper() -> None:
    """A background stat of every file every SWEEP_S: what no folder's mtime shows, a queue never pays for."""
    if _sweeper:
        return

    def run() -> None:
        while True:
            time.sleep(SWEEP_S)
            try:
                sweep(library_folders(), SCANS)
            except Exception:  # noqa: BLE001 (a sweep that fails waits for the next; the queue is unaffected)
                log.exception("Intelligent Generation: the model folder sweep failed")

    _sweeper.append(threading.Thread(target=run, name="ig-folder-sweep", daemon=True))
    _sweeper[0].start()


def vram_budget_gb() -> float | None:
    """Total memory of the device ComfyUI samples on (the system's on the CPU), as ComfyUI reads it;
    None under DirectML, where ComfyUI only has a placeholder figure."""
    import comfy.model_management as mm

    if getattr(mm, "directml_enabled", False):
        return None
    return float(mm.get_total_memory(mm.get_torch_device())) / 1024**3


def library_signature() -> str:
    """Changes whenever a model file or its sidecar is added, removed or renamed, or our records change: a
    stat per folder, from the scan's own change tracking (a file rewritten in place shows at the next sweep).
    Short and telling nothing: ComfyUI stores it in the prompt, which is embedded in every saved image."""
    remember_listings(cache_dir(), SCANS)
    return fingerprint(library_folders(), cache_dir(), SCANS)


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
