"""What a download is and where it may go: the request and its checks (format, file name, API key, folder),
and the site's answer about it as a plan (`resolve`). services/online/download.py streams and installs a plan."""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from ..library import model_records as records
from .civitai import CivitaiClient, fields_from_version, model_id_of
from .huggingface import fields_from_model, valid_repo_id
from .licences import civitai_licence, hf_licence, licence_text
from .session import HardenedSession, OnlineError

log = logging.getLogger(__name__)


KINDS = ("checkpoints", "loras", "vae")
PART_SUFFIX = ".part"  # a transfer not yet verified: no model file for ComfyUI or the library


SAFE_SUFFIXES = (".safetensors", ".sft", ".gguf")


PICKLE_SUFFIXES = (".ckpt", ".pt", ".pth", ".bin", ".pkl")


API_KEY_ENV = "CIVITAI_API_KEY"


API_KEY_SETTING = "IntelligentGeneration.CivitAI.ApiKey"


# CivitAI's model types -> the folder kind they belong in.
CIVITAI_KINDS = {"checkpoint": "checkpoints", "lora": "loras", "locon": "loras", "lycoris": "loras", "dora": "loras",
                 "vae": "vae"}


_KEY = re.compile(r"^[A-Za-z0-9._~+/=-]{8,256}$")  # a token that is safe in a header


_HF_PATH = re.compile(r"^[A-Za-z0-9_.+()\[\] -]+(/[A-Za-z0-9_.+()\[\] -]+){0,7}$")


_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._+\-()\[\] ]")


_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}


_QUERY = re.compile(r"^[A-Za-z0-9=&%._+\-]{0,200}$")


class DownloadError(Exception):
    """A download that did not install a file. `reason` is a short machine-readable word; the message
    says what happened, what is left on disk and what to do."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class DownloadRequest:
    """What the user asked for: a CivitAI model version, or a Hugging Face repository and file."""

    kind: str
    civitai_version: int | None = None
    hf_repo: str | None = None
    hf_file: str | None = None
    civitai_file: str | None = None  # which file of the version (its name or id); default the primary one
    save_as: str = ""  # a file name to save as; the published format's suffix is kept
    allow_pickle: bool = False

    @property
    def site(self) -> str:
        return "civitai" if self.civitai_version is not None else "huggingface"

    def checked(self) -> DownloadRequest:
        if self.kind not in KINDS:
            raise DownloadError("target", f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}.")
        if (self.civitai_version is None) == (self.hf_repo is None):
            raise DownloadError("target", "name one target: a CivitAI model version id, or a Hugging Face "
                                "repository and file.")
        if self.civitai_version is not None:
            if isinstance(self.civitai_version, bool) or not 0 < self.civitai_version < 2**53:
                raise DownloadError("target", f"not a CivitAI model version id: {self.civitai_version!r}.")
            return self
        if valid_repo_id(self.hf_repo) is None:
            raise DownloadError("target", f"not a Hugging Face repository (owner/name): {self.hf_repo!r}.")
        path = (self.hf_file or "").strip()
        if not _HF_PATH.match(path) or any(part in ("", ".", "..") for part in path.split("/")):
            raise DownloadError("target", f"not a file path in a repository: {self.hf_file!r}.")
        return self


@dataclass
class DownloadPlan:
    """A resolved target: what would be saved where, and what it must hash to."""

    request: DownloadRequest
    url: str  # first request, on the configured host
    published_name: str
    file_name: str  # as it will be saved (and as ComfyUI will list it)
    size: int | None
    size_exact: bool
    sha256: str
    folder: Path
    fields: dict[str, Any]  # our record's fields, from the site's answer
    ids: dict[str, Any]
    licence: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def site(self) -> str:
        return self.request.site

    @property
    def final(self) -> Path:
        return self.folder / self.file_name

    @property
    def part(self) -> Path:
        return self.folder / (self.file_name + PART_SUFFIX)

    def to_dict(self) -> dict[str, Any]:
        """For the node's JSON output and the web UI: no local path."""
        f = self.fields
        return {"site": self.site, "kind": self.request.kind, "file_name": self.file_name,
                "published_name": self.published_name, "size": self.size, "sha256": self.sha256,
                "name": f.get("name"), "version": f.get("version"), "type": f.get("type"),
                "base_model": f.get("base_model"), "page": f.get("url"), "licence": self.licence, "notes": self.notes}

    def describe(self, where: str) -> str:
        f = self.fields
        site = "CivitAI" if self.site == "civitai" else "Hugging Face"
        what = f"'{f.get('name') or self.published_name}'" + (f" {f['version']}" if f.get("version") else "")
        details = ", ".join(x for x in (f.get("type"), f.get("base_model")) if x)
        lines = [f"{site}: {what}" + (f" ({details})" if details else "") + f", file {self.published_name}, "
                 f"{human_size(self.size)}, SHA-256 {self.sha256[:16]}...",
                 f"Into {where} as {self.file_name}."]
        if f.get("url"):
            lines.append(f"Page: {f['url']}")
        if self.licence:
            lines.append("Licence: " + licence_text(self.licence) + ".")
        return "\n".join(lines + self.notes)


def human_size(size: int | None) -> str:
    if size is None:
        return "size unknown"
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def suffix_of(name: str) -> str:
    base = name.rsplit("/", 1)[-1]
    return "." + base.rsplit(".", 1)[-1].lower() if "." in base else ""


def check_format(name: str, allow_pickle: bool) -> None:
    suffix = suffix_of(name)
    if suffix in SAFE_SUFFIXES:
        return
    if suffix in PICKLE_SUFFIXES:
        if allow_pickle:
            return
        raise DownloadError("pickle", f"{name} is a pickle file ({suffix}): loading one can run any code its author "
                            "put in it. Only .safetensors and .gguf files are downloaded unless you switch "
                            "allow_pickle on (and trust the author). Nothing was downloaded.")
    raise DownloadError("format", f"{name} is not a model format this pack installs (.safetensors, .gguf). "
                        "Nothing was downloaded.")


def safe_file_name(name: str, suffix: str) -> str:
    """A plain file name (no folders, no odd characters, no device names) ending in `suffix`."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = _UNSAFE_CHARS.sub("_", text).strip(" .")
    stem = text[: -len(suffix)] if suffix and text.lower().endswith(suffix) else text
    stem = re.sub(r"_{2,}", "_", stem).strip(" ._") or "model"
    if stem.split(".")[0].upper() in _WINDOWS_RESERVED:
        stem = "_" + stem
    return stem[:150] + suffix


def read_api_key(environ: Mapping[str, str], settings_path: str | Path | None = None) -> str | None:
    """The CivitAI API key, read now: the environment first, then ComfyUI's settings file. Never stored."""
    key = (environ.get(API_KEY_ENV) or "").strip()
    if not key and settings_path is not None:
        try:
            stored = json.loads(Path(settings_path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            stored = {}
        value = stored.get(API_KEY_SETTING) if isinstance(stored, dict) else None
        key = value.strip() if isinstance(value, str) else ""
    if key and not _KEY.match(key):
        log.warning("Intelligent Generation: the CivitAI API key has characters a key cannot have; not used")
        return None
    return key or None


def target_folder(folders: list[Path], index: int, kind: str) -> Path:
    if not folders:
        raise DownloadError("folder", f"ComfyUI has no folder for {kind}.")
    if not 0 <= index < len(folders):
        raise DownloadError("folder", f"folder {index} does not exist: ComfyUI has {len(folders)} folder(s) for "
                            f"{kind} (0 to {len(folders) - 1}).")
    return folders[index]


def resolve(request: DownloadRequest, session: HardenedSession, folder: Path) -> DownloadPlan:
    """Ask the site what the target is; refuse what cannot be verified or should not be installed."""
    request = request.checked()
    try:
        plan = _resolve_civitai(request, session, folder) if request.site == "civitai" else \
            _resolve_hf(request, session, folder)
    except OnlineError as exc:
        site = "CivitAI" if request.site == "civitai" else "Hugging Face"
        raise DownloadError(exc.reason, f"{site} could not be asked about the target: {exc}. "
                            "Nothing was downloaded.") from exc
    check_format(plan.published_name, request.allow_pickle)
    if suffix_of(plan.published_name) in PICKLE_SUFFIXES:
        plan.notes.append("A pickle file, allowed by you: load it only if you trust its author.")
    return plan


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _resolve_civitai(request: DownloadRequest, session: HardenedSession, folder: Path) -> DownloadPlan:
    base = session.settings.civitai_url.rstrip("/")
    version_id = request.civitai_version
    answer = session.get_json(f"{base}/api/v1/model-versions/{version_id}")
    if answer.data is None:
        raise DownloadError("not_found", f"CivitAI has no model version {version_id}. Nothing was downloaded.")
    version = _as_dict(answer.data)
    files = [f for f in version.get("files") or [] if isinstance(f, dict) and isinstance(f.get("name"), str)]
    chosen = _choose_civitai_file(files, request.civitai_file, version_id)
    published = chosen["name"].rsplit("/", 1)[-1]
    sha = str(_as_dict(chosen.get("hashes")).get("SHA256") or "").lower()
    if not records.SHA256.match(sha):
        raise DownloadError("no_hash", f"CivitAI publishes no SHA-256 for {published}: it could not be verified, "
                            "so it is not downloaded.")
    size_kb = records.clean_float(chosen.get("sizeKB"), 0.0, 2.0**40)
    model_id = model_id_of(version)
    model = None
    if model_id is not None:
        try:
            model = CivitaiClient(session, base).model(model_id)
        except (OnlineError, ValueError) as exc:  # the version alone describes the file well enough
            log.warning("Intelligent Generation: CivitAI model %s not fetched: %s", model_id, exc)
    fields, ids = fields_from_version(version, model, base, sha[:10])
    part: dict[str, Any] = version["model"] if isinstance(version.get("model"), dict) else {}
    said = {str(t).strip().lower() for t in ((model or {}).get("type"), part.get("type")) if t}
    if len(said) > 1:  # the version and its model must agree on what it is
        raise DownloadError("kind", f"CivitAI's answers disagree on what {published} is ({', '.join(sorted(said))}); "
                            "nothing was downloaded.")
    _check_civitai_kind(request.kind, fields.get("type") or "", fields.get("name") or published)
    return DownloadPlan(
        request=request, url=_civitai_download_url(base, chosen, version_id or 0), published_name=published,
        file_name=safe_file_name(request.save_as or published, suffix_of(published)),
        size=round(size_kb * 1024) if size_kb else None, size_exact=False, sha256=sha, folder=folder,
        fields=fields, ids={"host": session.settings.civitai_url, **ids}, licence=civitai_licence(model),
    )


def _choose_civitai_file(files: list[dict[str, Any]], wanted: str | None, version_id: int | None) -> dict[str, Any]:
    if not files:
        raise DownloadError("not_found", f"CivitAI lists no files for model version {version_id}.")
    if wanted:
        for f in files:
            if f["name"].lower() == wanted.strip().lower() or str(f.get("id")) == wanted.strip():
                return f
        names = ", ".join(f["name"] for f in files[:8])
        raise DownloadError("not_found", f"model version {version_id} has no file {wanted!r} (it has: {names}).")
    # A safe format first (CivitAI often offers the same weights as .safetensors and .ckpt), then the
    # model itself over training data and extras, then the primary file.
    return min(files, key=lambda f: (suffix_of(f["name"]) not in SAFE_SUFFIXES,
                                     str(f.get("type", "Model")) not in ("Model", "Pruned Model"),
                                     not f.get("primary")))


def _check_civitai_kind(kind: str, model_type: str, name: str) -> None:
    """The kind asked for must be the kind CivitAI lists: a checkpoint is never installed into loras/."""
    if not model_type:
        raise DownloadError("kind", f"CivitAI does not say what kind of model {name} is, so it is not installed "
                            f"as {kind}. Nothing was downloaded.")
    expected = CIVITAI_KINDS.get(model_type.lower())
    if expected is None:
        raise DownloadError("kind", f"CivitAI lists {name} as a {model_type}; this pack installs checkpoints, "
                            "LoRAs and VAEs. Nothing was downloaded.")
    if expected != kind:
        raise DownloadError("kind", f"CivitAI lists {name} as a {model_type}: choose kind {expected}, not {kind}. "
                            "Nothing was downloaded.")


def _civitai_download_url(base: str, chosen: dict[str, Any], version_id: int) -> str:
    """CivitAI's own download link for the file, on the configured host (civitai.com or .red)."""
    raw = chosen.get("downloadUrl")
    parts = urlsplit(raw) if isinstance(raw, str) else None
    if parts and re.fullmatch(r"/api/download/models/\d+", parts.path) and _QUERY.match(parts.query):
        return f"{base}{parts.path}" + (f"?{parts.query}" if parts.query else "")
    return f"{base}/api/download/models/{version_id}"


def _resolve_hf(request: DownloadRequest, session: HardenedSession, folder: Path) -> DownloadPlan:
    base = session.settings.hf_url.rstrip("/")
    repo = valid_repo_id(request.hf_repo)
    path = (request.hf_file or "").strip()
    assert repo is not None  # checked()
    answer = session.get_json(f"{base}/api/models/{repo}?blobs=true", absent=(401, 404))
    if answer.data is None:
        raise DownloadError("not_found", f"Hugging Face has no public repository {repo}. Nothing was downloaded.")
    info = _as_dict(answer.data)
    siblings = [s for s in info.get("siblings") or [] if isinstance(s, dict) and isinstance(s.get("rfilename"), str)]
    sibling = next((s for s in siblings if s["rfilename"] == path), None)
    if sibling is None:
        models = [s["rfilename"] for s in siblings if suffix_of(s["rfilename"]) in SAFE_SUFFIXES + PICKLE_SUFFIXES]
        raise DownloadError("not_found", f"{repo} has no file {path}" + (f" (model files: {', '.join(models[:8])})"
                                                                          if models else "") + ".")
    lfs = _as_dict(sibling.get("lfs"))
    sha = str(lfs.get("sha256") or "").lower()
    if not records.SHA256.match(sha):
        raise DownloadError("no_hash", f"Hugging Face publishes no SHA-256 for {path} (not stored with LFS): it could "
                            "not be verified, so it is not downloaded.")
    size = records.clean_int(lfs.get("size", sibling.get("size")), 0, 2**50)
    revision = info.get("sha") if isinstance(info.get("sha"), str) and re.fullmatch(r"[0-9a-f]{40}", info["sha"]) \
        else "main"  # the commit the hash belongs to, when the answer names it
    notes = []
    if info.get("gated"):
        notes.append("The repository is gated: Hugging Face may refuse the download; this pack sends no Hugging "
                     "Face token.")
    return DownloadPlan(
        request=request, url=f"{base}/{repo}/resolve/{revision}/{quote(path)}", published_name=path.rsplit("/", 1)[-1],
        file_name=safe_file_name(request.save_as or path, suffix_of(path)), size=size, size_exact=size is not None,
        sha256=sha, folder=folder, fields=fields_from_model(info, base, repo), ids={"repo_id": repo},
        licence=hf_licence(info), notes=notes,
    )
