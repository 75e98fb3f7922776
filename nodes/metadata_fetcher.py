from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import comfy.utils
import folder_paths
from comfy_api.latest import io

from ..services.library.describe import describe
from ..services.library.entries import KINDS
from ..services.library.hashing import HashCache
from ..services.library.previews import LEVELS
from ..services.library.scan import Library
from ..services.online.lookups import FetchOptions, FetchReport, FetchTarget, fetch_metadata, targets_from_library
from ..services.online.session import CIVITAI_HOSTS, OnlineSettings, SettingsError, settings_for
from ..services.online.updates import check_updates as check_for_updates
from ..services.online.updates import known_on_civitai, summary_lines
from ..services.recommend.loras import LoraPlanDict
from ..services.records.chosen_models import collect_generation_info
from ..services.server.settings import read_settings, settings_file
from .comfy import (
    CATEGORY,
    GenerationInfo,
    LoraPlan,
    Selection,
    SelectionPayload,
    cache_dir,
    full_path,
    library_signature,
    load_library,
)

SCOPES = ("selection", "model", "checkpoints", "loras", "vae", "library")
NO_MODEL = "none"
HASHING_SHARE = 700  # of the bar's 1000 steps; the lookups take the rest


def model_choices() -> list[str]:
    """Every model file as `<kind>/<name>`, the way the web UI names them too."""
    return [f"{kind}/{name}" for kind in KINDS for name in folder_paths.get_filename_list(kind)]


def online_settings(host: str | None = None) -> OnlineSettings:
    """The user's online settings: the editor's host and proxy (IntelligentGeneration.Lookup.*), the
    host given here when one is, and the base-URL environment variables documented in the README."""
    pack = read_settings(settings_file(folder_paths.get_user_directory()))
    return settings_for(host or pack.lookup_host, pack.lookup_proxy, os.environ)


def preview_level() -> int:
    """The StorePreviews setting as CivitAI's nsfwLevel to keep example images up to (0: keep none)."""
    return LEVELS.get(read_settings(settings_file(folder_paths.get_user_directory())).store_previews, 0)


def targets_for(scope: str, selection: SelectionPayload | None, lora_plan: LoraPlanDict | None,
                model: str) -> list[FetchTarget]:
    """What a scope covers, resolved only through ComfyUI's model folders."""
    if scope in ("selection", "model"):
        if scope == "selection":
            if not selection:
                raise ValueError("Metadata Fetcher: connect a selection, or choose another scope (a model, a folder "
                                 "kind or the library).")
            named = [("checkpoints", selection["checkpoint"])]
            named += [("loras", lora["name"]) for lora in (lora_plan["loras"] if lora_plan else [])]
        else:
            kind, _, name = model.partition("/")
            if model == NO_MODEL or kind not in KINDS or name not in folder_paths.get_filename_list(kind):
                raise ValueError(f"Metadata Fetcher: scope 'model' needs a model from the list (got {model!r}).")
            named = [(kind, name)]
        entries = [describe(kind, Path(full_path(kind, name)), name) for kind, name in dict.fromkeys(named)]
        return targets_from_library(Library(entries))
    return targets_from_library(load_library(), None if scope == "library" else [scope])


def explain(report: FetchReport, online: bool, settings: OnlineSettings | None) -> str:
    c = report.counts
    if online and settings:
        head = (f"Looked up {c.files} file(s) on {settings.civitai_url} (only SHA-256 hashes sent): {c.found} found, "
                f"{c.not_found} not found, {c.errors} failed, {c.requests} request(s).")
    else:
        known = sum(1 for r in report.results if r.record)
        head = f"Offline: {c.files} file(s) hashed, {known} with metadata stored by an earlier lookup."
    lines = [head, f"Hashes: {c.hashed} computed, {c.hash_cache_hits} from the cache."]
    for result in report.results[:20]:
        record = result.record or {}
        what = record.get("name") or "-"
        if record.get("base_model"):
            what += f" ({record['base_model']})"
        errors = f"; {'; '.join(result.errors)}" if result.errors else ""
        lines.append(f"{result.target.kind}/{result.target.name}: {result.outcome}: {what}{errors}")
    if len(report.results) > 20:
        lines.append(f"... and {len(report.results) - 20} more")
    return "\n".join(lines)


def updates_text(report: FetchReport, settings: OnlineSettings | None) -> str:
    """The update check of the found models in scope, one line each with a newer version."""
    if settings is None:
        return "Updates: not checked, online_lookup is off (nothing was sent)."
    in_scope = {(r.target.kind, r.target.name) for r in report.results}
    known = known_on_civitai(load_library(), cache_dir(), in_scope)
    if not known:
        return "Updates: no model in scope is known to CivitAI."
    return "\n".join(summary_lines(check_for_updates(known, settings)))


def trigger_words(report: FetchReport, selection: SelectionPayload | None, lora_plan: LoraPlanDict | None,
                  scope: str) -> str:
    """Trigger words of the models in a selection or model scope (empty for folder scopes)."""
    if scope not in ("selection", "model"):
        return ""
    words: list[str] = []
    for result in report.results:
        record = result.record or {}
        for word in record.get("trigger_words") or []:
            if word not in words:
                words.append(word)
    return ", ".join(words)


class MetadataFetcher(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="IntelligentMetadataFetcher",
            display_name="Metadata Fetcher",
            category=CATEGORY,
            description="Hashes models (SHA-256, AutoV2, AutoV3; cached) and, only when online_lookup is on, looks "
            "them up on CivitAI (and Hugging Face when a model names its repository). Only hashes are sent. "
            "Stores the answers in the pack's own metadata records.",
            inputs=[
                Selection.Input("selection", optional=True,
                                tooltip="From Auto Model Select: its checkpoint and the plan's LoRAs (scope 'selection')."),
                LoraPlan.Input("lora_plan", optional=True),
                io.Combo.Input("scope", options=list(SCOPES), default="selection", optional=True,
                               tooltip="selection: the chosen checkpoint and LoRAs; model: the file picked below; "
                               "checkpoints / loras / vae: that whole folder kind; library: everything."),
                io.Combo.Input("model", options=[NO_MODEL, *model_choices()], default=NO_MODEL, optional=True,
                               tooltip="For scope 'model'."),
                io.Boolean.Input("online_lookup", default=False, optional=True,
                                 tooltip="Off: nothing leaves this machine; shows what earlier lookups stored. On: sends "
                                 "the files' SHA-256 hashes to CivitAI (no names, no paths, no account)."),
                io.Combo.Input("civitai_host", options=list(CIVITAI_HOSTS), default="civitai.com", optional=True,
                               tooltip="civitai.com is SFW only; civitai.red has everything."),
                io.Boolean.Input("write_sidecars", default=False, optional=True,
                                 tooltip="Also write each found model's record next to it as <name>.ig.json."),
                io.Boolean.Input("check_updates", default=False, optional=True,
                                 tooltip="With online_lookup: also ask CivitAI for newer versions, for the same base "
                                 "model, of the found models in scope (only their CivitAI model ids are sent)."),
            ],
            outputs=[
                GenerationInfo.Output("generation_info", display_name="generation_info"),
                io.String.Output("explanation", display_name="explanation"),
                io.String.Output("metadata_json", display_name="metadata_json",
                                 tooltip="Our metadata record of each model in scope, as JSON text."),
                io.String.Output("trigger_words", display_name="trigger_words",
                                 tooltip="Trigger words of the selection's or the chosen model's files, comma-separated."),
            ],
        )

    @classmethod
    def fingerprint_inputs(cls, scope: str = "selection", **_inputs: object) -> str:
        # A folder or library scope covers whatever is on disk now: run again when that changes.
        # (ComfyUI keys its cache on the inputs' values anyway; this adds the files.)
        return library_signature() if scope in ("checkpoints", "loras", "vae", "library") else "fixed"

    @classmethod
    def execute(
        cls,
        selection: SelectionPayload | None = None,
        lora_plan: LoraPlanDict | None = None,
        scope: str = "selection",
        model: str = NO_MODEL,
        online_lookup: bool = False,
        civitai_host: str = "civitai.com",
        write_sidecars: bool = False,
        check_updates: bool = False,
    ) -> io.NodeOutput:
        bar = comfy.utils.ProgressBar(1000)
        info: dict[str, Any] = {}
        texts: list[str] = []
        if selection:
            library = load_library()
            files = [("checkpoints", selection["checkpoint"])]
            files += [("loras", lora["name"]) for lora in (lora_plan["loras"] if lora_plan else [])]
            paths = {name: full_path(kind, name) for kind, name in files}
            info, text = collect_generation_info(
                selection, lora_plan, library, paths, HashCache(cache_dir()),
                progress=lambda done, total: bar.update_absolute(HASHING_SHARE * done // max(total, 1), 1000),
            )
            texts.append(text)

        def progress(phase: str, done: int, total: int) -> None:
            share = HASHING_SHARE * done // max(total, 1)
            bar.update_absolute(share if phase == "hashing" else HASHING_SHARE + (1000 - HASHING_SHARE) * done
                                // max(total, 1), 1000)

        settings = None
        if online_lookup:
            try:
                settings = online_settings(civitai_host)
            except SettingsError as exc:
                raise ValueError(f"Metadata Fetcher: online settings not usable, nothing was sent: {exc}") from exc
        report = fetch_metadata(
            targets_for(scope, selection, lora_plan, model), cache_dir(), settings,
            FetchOptions(online=online_lookup, write_sidecars=write_sidecars, preview_max_nsfw=preview_level()),
            progress=progress,
        )
        texts.append(explain(report, online_lookup, settings))
        if check_updates:
            texts.append(updates_text(report, settings))
        text = "\n".join(texts)
        metadata = json.dumps({"counts": report.counts.to_dict(), "models": [r.to_dict() for r in report.results]},
                              ensure_ascii=False)
        return io.NodeOutput(info, text, metadata, trigger_words(report, selection, lora_plan, scope),
                             ui={"text": [text]})
