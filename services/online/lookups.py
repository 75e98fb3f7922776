"""The Metadata Fetcher's run over some files or a whole library: hash, look up, record.

1. Hash every file (cached; the rest in worker threads).
2. Ask CivitAI about every SHA-256 whose record has no fresh CivitAI answer: one GET for a
   single hash, POST batches of up to 100 otherwise; then GET each found model once for its tags
   and description. Ask Hugging Face about files that name a repository.
3. Store each answer in our record (services.library.model_records); optionally as a sidecar too.

Only hashes, ids CivitAI returned and repository ids go out (services.online.session). A failure leaves
what was stored before untouched and is counted: files = found + not_found + errors.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..library import model_records as records
from ..library.hashing import FileHashes, HashCache, hash_many
from ..library.scan import Library
from .civitai import BULK_LIMIT, CivitaiClient, fields_from_version, model_id_of
from .huggingface import HuggingFaceClient, fields_from_model, repo_from_metadata, repo_from_path
from .session import HardenedSession, OnlineError, OnlineSettings

log = logging.getLogger(__name__)

# (phase, done, total): phase "hashing" counts bytes, "lookup" counts files whose lookups finished.
FetchProgress = Callable[[str, int, int], None]


@dataclass
class FetchTarget:
    kind: str
    name: str  # as ComfyUI names it; stays on this machine
    path: str
    embedded_autov3: str | None = None
    hf_repo: str | None = None


@dataclass
class FetchCounts:
    files: int = 0
    hashed: int = 0
    hash_cache_hits: int = 0
    found: int = 0
    not_found: int = 0
    errors: int = 0
    requests: int = 0
    previews: int = 0  # example images kept as previews this run

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class ModelResult:
    target: FetchTarget
    hashes: FileHashes | None = None
    outcome: str = "unknown"  # found | not_found | error | unknown (offline, never asked)
    record: dict[str, Any] | None = None
    asked: list[str] = field(default_factory=list)  # sites asked during this run
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """For the node's JSON output and the web UI: no local path."""
        h = self.hashes
        return {
            "kind": self.target.kind,
            "name": self.target.name,
            "outcome": self.outcome,
            "hashes": {"sha256": h.sha256, "autov2": h.autov2, "autov3": h.autov3, "blake3": h.blake3} if h else None,
            "asked": self.asked,
            "errors": self.errors,
            "record": records.public_view(self.record) if self.record else None,
        }


@dataclass
class FetchReport:
    counts: FetchCounts
    results: list[ModelResult]


@dataclass
class FetchOptions:
    online: bool = True
    write_sidecars: bool = False
    workers: int | None = None
    with_blake3: bool = False
    huggingface: bool = True
    preview_max_nsfw: int = 0  # keep the first example image rated at most this as the preview (0: never)


def targets_from_library(library: Library, kinds: Iterable[str] | None = None) -> list[FetchTarget]:
    from ..library.safetensors_header import HeaderError, read_header

    wanted = set(kinds) if kinds is not None else None
    targets: list[FetchTarget] = []
    for entry in library.entries:
        if wanted is not None and entry.kind not in wanted:
            continue
        repo = repo_from_path(entry.path)
        if repo is None and entry.path.lower().endswith((".safetensors", ".sft")):
            try:
                repo = repo_from_metadata(read_header(entry.path).metadata)
            except HeaderError:
                repo = None
        targets.append(FetchTarget(entry.kind, entry.name, entry.path, entry.embedded_hash, repo))
    return targets


def fetch_metadata(
    targets: list[FetchTarget],
    cache_dir: str | Path,
    settings: OnlineSettings | None = None,
    options: FetchOptions | None = None,
    progress: FetchProgress | None = None,
    session: HardenedSession | None = None,
    now: Callable[[], float] = time.time,
) -> FetchReport:
    """Hash the targets and, when online, look them up. Raises SettingsError before sending anything
    when the online settings cannot be used safely (a SOCKS proxy without PySocks, a bad URL)."""
    options = options or FetchOptions()
    settings = (settings or OnlineSettings()).checked() if options.online else settings
    cache_dir = Path(cache_dir)
    counts = FetchCounts(files=len(targets))
    results = [ModelResult(t) for t in targets]

    def report(phase: str, done: int, total: int) -> None:
        if progress:
            progress(phase, done, total)

    outcomes = hash_many(
        HashCache(cache_dir), [(t.path, t.embedded_autov3) for t in targets],
        progress=lambda d, t: report("hashing", d, t), workers=options.workers, with_blake3=options.with_blake3,
    )
    for result, outcome in zip(results, outcomes, strict=True):
        result.hashes = outcome.hashes
        if outcome.error:
            result.errors.append(outcome.error)
        elif outcome.cached:
            counts.hash_cache_hits += 1
        else:
            counts.hashed += 1

    by_sha: dict[str, list[ModelResult]] = {}
    for result in results:
        if result.hashes:
            by_sha.setdefault(result.hashes.sha256, []).append(result)
    stored = {sha: records.load_record(cache_dir, sha) for sha in by_sha}

    if options.online and by_sha:
        assert settings is not None
        own = session is None
        session = session or HardenedSession(settings)
        try:
            run = _OnlineRun(session, settings, cache_dir, by_sha, stored, now, options, report)
            run.civitai()
            if options.huggingface:
                run.huggingface()
            if options.preview_max_nsfw:
                counts.previews = run.keep_previews()
        finally:
            counts.requests = session.log.requests
            if own:
                session.close()

    for sha, group in by_sha.items():
        record = stored.get(sha)
        for result in group:
            result.record = record
    for result in results:
        result.outcome = _outcome(result, options.online)
        if result.outcome == "found":
            counts.found += 1
        elif result.outcome == "not_found":
            counts.not_found += 1
        elif result.outcome == "error":
            counts.errors += 1
    if options.online and options.write_sidecars:
        for result in results:
            if result.record and result.record.get("status") == "found":
                records.write_sidecar(result.target.path, result.record)
    report("lookup", len(results), len(results))
    return FetchReport(counts, results)


def _outcome(result: ModelResult, online: bool) -> str:
    if result.errors:
        return "error"
    status = result.record.get("status") if result.record else None
    if status == "found":
        return "found"
    if status == "not_found" and (online or result.record):
        return "not_found"
    return "unknown"


class _OnlineRun:
    """One run's lookups; each answer is saved as soon as it arrives, so an interrupted run keeps them."""

    def __init__(
        self,
        session: HardenedSession,
        settings: OnlineSettings,
        cache_dir: Path,
        by_sha: dict[str, list[ModelResult]],
        stored: dict[str, dict[str, Any] | None],
        now: Callable[[], float],
        options: FetchOptions,
        report: FetchProgress,
    ) -> None:
        self.settings = settings
        self.cache_dir = cache_dir
        self.by_sha = by_sha
        self.stored = stored
        self.now = now
        self.options = options
        self.report = report
        self.civitai_client = CivitaiClient(session, settings.civitai_url)
        self.hf_client = HuggingFaceClient(session, settings.hf_url)
        self.done = 0

    def _hashes(self, sha: str) -> dict[str, str | None]:
        h = self.by_sha[sha][0].hashes
        assert h is not None
        return {"sha256": h.sha256, "autov2": h.autov2, "autov3": h.autov3, "blake3": h.blake3}

    def _save(self, sha: str, site: str, found: bool, fields: dict[str, Any] | None, ids: dict[str, Any]) -> None:
        record = self.stored.get(sha) or records.new_record(self._hashes(sha))
        ttl = self.settings.found_ttl_s if found else self.settings.not_found_ttl_s
        record = records.apply_lookup(record, site, found, fields, self.now(), ttl, ids)
        record["hashes"] = {**self._hashes(sha), **{k: v for k, v in record["hashes"].items() if v}}
        records.save_record(self.cache_dir, record)
        self.stored[sha] = record

    def _fail(self, shas: Iterable[str], site: str, exc: Exception) -> None:
        for sha in shas:
            for result in self.by_sha[sha]:
                result.errors.append(f"{site}: {exc}")
        log.warning("Intelligent Generation: %s lookup failed: %s", site, exc)

    def _asked(self, shas: Iterable[str], site: str) -> None:
        for sha in shas:
            for result in self.by_sha[sha]:
                result.asked.append(site)

    def _step(self, shas: list[str]) -> None:
        self.done += sum(len(self.by_sha[sha]) for sha in shas)
        self.report("lookup", self.done, sum(len(g) for g in self.by_sha.values()))

    def civitai(self) -> None:
        clock = self.now()
        due = [sha for sha in self.by_sha if not records.is_fresh(self.stored.get(sha), "civitai", clock)]
        self._step([sha for sha in self.by_sha if sha not in due])
        models: dict[int, dict[str, Any] | None] = {}  # one GET per model, even for several versions
        for start in range(0, len(due), BULK_LIMIT):
            batch = due[start : start + BULK_LIMIT]
            self._asked(batch, "civitai")
            try:
                if len(batch) == 1:
                    version = self.civitai_client.version_by_hash(batch[0])
                    versions = {batch[0]: version} if version else {}
                else:
                    versions = self.civitai_client.versions_by_hashes(batch)
            except (OnlineError, ValueError) as exc:
                self._fail(batch, "civitai", exc)
                self._step(batch)
                continue
            for sha in batch:
                version = versions.get(sha)
                if version is None:
                    self._save(sha, "civitai", False, None, {"host": self.settings.civitai_url})
                    continue
                model_id = model_id_of(version)
                if model_id is not None and model_id not in models:
                    try:
                        models[model_id] = self.civitai_client.model(model_id)
                    except (OnlineError, ValueError) as exc:
                        # The version alone is a useful answer: keep it, without the model's tags.
                        log.warning("Intelligent Generation: CivitAI model %s not fetched: %s", model_id, exc)
                        models[model_id] = None
                fields, ids = fields_from_version(
                    version, models.get(model_id) if model_id else None, self.settings.civitai_url, sha[:10])
                self._save(sha, "civitai", True, fields, {"host": self.settings.civitai_url, **ids})
            self._step(batch)

    def keep_previews(self) -> int:
        """For each found model without a kept preview, its first example image within the rating asked for."""
        from ..library.previews import stored_previews
        from .previews import first_example, keep_example

        kept = 0
        already = stored_previews(self.cache_dir)  # one folder listing for the whole run
        for sha in self.by_sha:
            civitai = (self.stored.get(sha) or {}).get("lookups", {}).get("civitai") or {}
            image = first_example((civitai.get("fields") or {}).get("images"), self.options.preview_max_nsfw)
            if image is None or sha in already:
                continue
            try:
                keep_example(self.civitai_client.session, self.cache_dir, sha, image)
                kept += 1
            except (OnlineError, OSError) as exc:  # a preview is a nicety: the lookup stands
                log.warning("Intelligent Generation: example image not kept: %s", exc)
        return kept

    def huggingface(self) -> None:
        clock = self.now()
        for sha, group in self.by_sha.items():
            repo = next((r.target.hf_repo for r in group if r.target.hf_repo), None)
            if repo is None or records.is_fresh(self.stored.get(sha), "huggingface", clock):
                continue
            self._asked([sha], "huggingface")
            try:
                info = self.hf_client.model_info(repo)
            except (OnlineError, ValueError) as exc:
                self._fail([sha], "huggingface", exc)
                continue
            fields = fields_from_model(info, self.settings.hf_url, repo) if info else None
            self._save(sha, "huggingface", info is not None, fields, {"repo_id": repo})
