"""Download Model: one model file the user names, downloaded only when `confirm_download` is on.

The work is services/online/download.py's; this adapts it to ComfyUI: its folders for the kind, its user
settings (host, proxy, an optional CivitAI API key read at call time), its progress bar and server
events. The web UI's route (routes/download.py) goes through `run_download` too.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from pathlib import Path
from typing import Any

import comfy.utils
import folder_paths
from comfy_api.latest import io

from ..services.online.download import download
from ..services.online.download_target import (
    KINDS,
    DownloadError,
    DownloadRequest,
    read_api_key,
    resolve,
    target_folder,
)
from ..services.online.session import CIVITAI_HOSTS, HardenedSession, SettingsError
from ..services.server.settings import settings_file
from .comfy import CATEGORY, Notify, cache_dir, library_signature, server_events
from .metadata_fetcher import online_settings

log = logging.getLogger(__name__)

EVENT = "intelligent-generation.download-progress"
SOURCES = ("civitai", "huggingface")
BAR_STEPS = 1000


def kind_folders(kind: str) -> list[Path]:
    """ComfyUI's folders for the kind, in its order (models/<kind> first, then extra_model_paths.yaml's)."""
    return [Path(p) for p in folder_paths.get_folder_paths(kind)] if kind in KINDS else []


def folder_label(kind: str, index: int, count: int) -> str:
    """Names the folder without its path: explanations can end up in saved workflows."""
    return f"ComfyUI's {kind} folder" + (f" #{index} (of {count})" if count > 1 else "")


class ProgressRelay:
    """Progress to the node's bar and, once per percent, as a server event for the web UI."""

    def __init__(self, job: str, name: str, notify: Notify | None, bar: Any | None) -> None:
        self.job = job
        self.name = name
        self.notify = notify
        self.bar = bar
        self.last = -1

    def emit(self, state: str, done: int = 0, total: int | None = None, error: str | None = None) -> None:
        if self.notify is None:
            return
        try:
            self.notify(EVENT, {"job": self.job, "state": state, "name": self.name, "done": done, "total": total,
                                "error": error})
        except Exception:  # a closed socket must not stop the download
            log.exception("Intelligent Generation: download progress event not sent")

    def __call__(self, done: int, total: int | None) -> None:
        if self.bar is not None:
            # ComfyUI's Cancel stops a running download here; the .part is kept, so queueing again resumes it.
            import comfy.model_management

            comfy.model_management.throw_exception_if_processing_interrupted()
            if total:
                self.bar.update_absolute(min(BAR_STEPS, BAR_STEPS * done // total), BAR_STEPS)
        percent = 100 * done // total if total else done // (1 << 20)
        if percent != self.last:
            self.last = percent
            self.emit("running", done, total)


def run_download(request: DownloadRequest, folder_index: int, confirm: bool, host: str | None,
                 notify: Notify | None = None, bar: Any | None = None) -> tuple[str, dict[str, Any]]:
    """Plan (not confirmed) or download (confirmed): the explanation and the JSON answer. Raises DownloadError."""
    try:
        settings = online_settings(host)
    except SettingsError as exc:
        raise DownloadError("settings", f"online settings not usable, nothing was sent: {exc}") from exc
    request = request.checked()
    folders = kind_folders(request.kind)
    folder = target_folder(folders, folder_index, request.kind)
    where = folder_label(request.kind, folder_index, len(folders))
    with HardenedSession(settings) as session:
        plan = resolve(request, session, folder)
        if not confirm:
            text = (plan.describe(where) + "\nNothing was downloaded: switch confirm_download on to download it "
                    "(and check the licence on its page).")
            return text, {"status": "planned", **plan.to_dict()}
        relay = ProgressRelay(uuid.uuid4().hex, plan.file_name, notify, bar)
        relay.emit("running", 0, plan.size)
        try:
            result = download(plan, session, cache_dir(), progress=relay,
                              api_key=read_api_key(os.environ, settings_file(folder_paths.get_user_directory())))
        except Exception as exc:  # a refusal, a failure, or ComfyUI's Cancel: the web UI hears of it
            relay.emit("failed", error=str(exc) or type(exc).__name__)
            raise
        relay.emit("done", result.size, result.size)
    return result.describe(where), {**result.to_dict(), "job_id": relay.job}


def request_from_inputs(source: str, civitai_version_id: int, hf_repo: str, hf_file: str, kind: str, save_as: str,
                        allow_pickle: bool, civitai_file: str = "") -> DownloadRequest:
    if source == "civitai":
        return DownloadRequest(kind, civitai_version=civitai_version_id or None, civitai_file=civitai_file.strip() or None,
                               save_as=save_as.strip(), allow_pickle=allow_pickle)
    return DownloadRequest(kind, hf_repo=hf_repo.strip() or None, hf_file=hf_file.strip(), save_as=save_as.strip(),
                           allow_pickle=allow_pickle)


class DownloadModel(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="IntelligentDownloadModel",
            display_name="Download Model",
            category=CATEGORY,
            description="Downloads one model you name (a CivitAI model version, or a Hugging Face repository file) "
            "into ComfyUI's folder for its kind, only when confirm_download is on: checked for free space and a "
            "safe format, resumable, verified against the published SHA-256, with its metadata record written.",
            is_output_node=True,
            inputs=[
                io.Combo.Input("source", options=list(SOURCES), default="civitai",
                               tooltip="civitai: a model version id; huggingface: a repository and a file in it."),
                io.Int.Input("civitai_version_id", default=0, min=0, max=2**53 - 1,
                             tooltip="CivitAI's model version id: the number after modelVersionId= in a model page's "
                             "address."),
                io.String.Input("hf_repo", default="", tooltip="Hugging Face repository, owner/name."),
                io.String.Input("hf_file", default="", tooltip="The file's path in that repository."),
                io.Combo.Input("kind", options=list(KINDS), default="loras",
                               tooltip="Which ComfyUI folder it goes into; CivitAI's model type must agree."),
                io.Boolean.Input("confirm_download", default=False,
                                 tooltip="Off: only asks the site what the target is (its id goes out) and shows what "
                                 "would be downloaded; nothing is written. On: downloads it."),
                io.Int.Input("folder_index", default=0, min=0, max=63, optional=True,
                             tooltip="Which of ComfyUI's folders for the kind: 0 is models/<kind>, then those "
                             "of extra_model_paths.yaml in order."),
                io.String.Input("save_as", default="", optional=True,
                                tooltip="A file name to save as (empty: the published name); the format's suffix "
                                "is kept."),
                io.Boolean.Input("allow_pickle", default=False, optional=True,
                                 tooltip="Also accept .ckpt / .pt / .bin files. They can run code when loaded: only "
                                 "for authors you trust."),
                io.Combo.Input("civitai_host", options=list(CIVITAI_HOSTS), default="civitai.com", optional=True,
                               tooltip="civitai.com is SFW only; civitai.red has everything."),
                io.String.Input("civitai_file", default="", optional=True,
                                tooltip="Which file of the CivitAI version (its name); empty: the primary one, "
                                "a .safetensors first."),
            ],
            outputs=[
                io.String.Output("name", display_name="name",
                                 tooltip="The file's name as ComfyUI lists it (empty until it is downloaded)."),
                io.String.Output("explanation", display_name="explanation"),
                io.String.Output("result_json", display_name="result_json",
                                 tooltip="What was (or would be) downloaded, with its record, as JSON text."),
            ],
        )

    @classmethod
    def fingerprint_inputs(cls, confirm_download: bool = False, **_inputs: object) -> str:
        # Confirmed: run again when the model folders change (a deleted file is downloaded again).
        return library_signature() if confirm_download else "plan"

    @classmethod
    def execute(
        cls,
        source: str,
        civitai_version_id: int,
        hf_repo: str,
        hf_file: str,
        kind: str,
        confirm_download: bool,
        folder_index: int = 0,
        save_as: str = "",
        allow_pickle: bool = False,
        civitai_host: str = "civitai.com",
        civitai_file: str = "",
    ) -> io.NodeOutput:
        request = request_from_inputs(source, civitai_version_id, hf_repo, hf_file, kind, save_as, allow_pickle,
                                      civitai_file)
        bar = comfy.utils.ProgressBar(BAR_STEPS) if confirm_download else None
        try:
            text, answer = run_download(request, folder_index, confirm_download, civitai_host, server_events(), bar)
        except DownloadError as exc:
            raise ValueError(f"Download Model: {exc}") from exc
        name = answer.get("name", "") if answer.get("status") in ("downloaded", "already_present") else ""
        return io.NodeOutput(name, text, json.dumps(answer, ensure_ascii=False), ui={"text": [text]})
