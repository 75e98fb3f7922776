"""Download one model file the user asked for: resolved, checked, streamed, resumable, verified, recorded.

Only on the user's action (the Download Model node with `confirm_download` on, the web UI's route with
`"confirm": true`, `python -m services download --yes`); never as a side effect of selection.

1. `resolve()` asks the site about the target, through the hardened session (services/online/session.py):
   a CivitAI model version (`GET /api/v1/model-versions/{id}`, then `/api/v1/models/{id}` for tags and
   licence) or a Hugging Face repository file (`GET /api/models/{repo}?blobs=true`). Only the id, or the
   repository and file the user typed, go out. The plan names the file, its published size and SHA-256.
2. It refuses what should not be installed, and says why: no published SHA-256 (nothing to verify
   against), a pickle format (.ckpt .pt .pth .bin .pkl: loading one can run code) unless `allow_pickle`,
   anything but .safetensors / .sft / .gguf otherwise, a kind the site contradicts.
3. `download()` checks free disk space against the published size, then streams into `<name>.part`
   in the target folder, hashing while it writes. An interrupted transfer keeps the `.part`; the next
   call resumes it with an HTTP Range request (the bytes already there are hashed again, not fetched).
4. The SHA-256 is compared with the published one: a match is renamed to `<name>` in one step; a
   mismatch deletes the partial file. So the folder holds a verified file or none (`.part` files are
   not model files for ComfyUI or the library).
5. Our record (services/library/model_records.py) is written at once, in the cache and as `<stem>.ig.json`
   next to the file (the library reads it on its next scan, which stats folders: nothing else to do),
   and the hashes go into the hash cache, so the file is never hashed again.

A CivitAI API key (environment variable CIVITAI_API_KEY, or the ComfyUI setting
IntelligentGeneration.CivitAI.ApiKey, read at call time) is sent only when CivitAI answers 401
without one, only to CivitAI's host (never after a redirect to its storage), and never stored,
logged or written into a record.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..library import model_records as records
from ..library.hashing import FileHashes, HashCache
from .download_target import (
    API_KEY_ENV,
    API_KEY_SETTING,
    DownloadError,
    DownloadPlan,
    human_size,
    suffix_of,
)
from .session import HardenedSession, OnlineError, Secret, Watchdog, origin, too_slow

log = logging.getLogger(__name__)




CHUNK_BYTES = 1024 * 1024


# CivitAI publishes sizes in KB with one decimal: allow that much rounding, never more.
SIZE_SLACK = 0.001


SIZE_SLACK_BYTES = 64 * 1024


_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


DISK_FULL = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}


@dataclass
class DownloadResult:
    plan: DownloadPlan
    status: str  # downloaded | already_present
    path: Path  # local; never in to_dict()
    sha256: str
    autov3: str | None
    size: int
    received: int  # bytes fetched by this call
    resumed_from: int
    seconds: float
    requests: int
    record: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "site": self.plan.site, "kind": self.plan.request.kind,
                "name": self.plan.file_name, "size": self.size, "sha256": self.sha256, "autov2": self.sha256[:10],
                "autov3": self.autov3, "received": self.received, "resumed_from": self.resumed_from,
                "seconds": round(self.seconds, 3), "requests": self.requests, "base_model": self.record.get("base_model"),
                "record": records.public_view(self.record)}

    def describe(self, where: str) -> str:
        if self.status == "already_present":
            head = f"{self.plan.file_name} is already in {where} with the published SHA-256: nothing downloaded."
        else:
            resumed = f", resumed at {human_size(self.resumed_from)}" if self.resumed_from else ""
            rate = f", {human_size(int(self.received / self.seconds))}/s" if self.seconds > 0 and self.received else ""
            head = (f"Downloaded {self.plan.file_name} ({human_size(self.size)}{resumed}{rate}) into {where}; "
                    f"SHA-256 verified ({self.sha256[:16]}...).")
        base = self.record.get("base_model")
        return (head + f"\nIts metadata record is written ({self.record.get('name') or '-'}"
                + (f", {base}" if base else "") + "): selectable now, no lookup needed.")


@contextlib.contextmanager
def _claim(path: Path) -> Iterator[None]:
    """One download per target file at a time in this process (the node and the web UI share it)."""
    key = str(path)
    with _active_lock:
        if key in _active:
            raise DownloadError("busy", f"{path.name} is being downloaded already.")
        _active.add(key)
    try:
        yield
    finally:
        with _active_lock:
            _active.discard(key)


class _StreamHasher:
    """SHA-256 of the whole file and, for safetensors, of the bytes after the header (AutoV3), in one pass."""

    def __init__(self, safetensors: bool) -> None:
        self.whole = hashlib.sha256()
        self.tail: Any = hashlib.sha256() if safetensors else None
        self.head = b""
        self.data_offset: int | None = None
        self.done = 0

    def update(self, data: bytes) -> None:
        self.whole.update(data)
        if self.tail is not None:
            if self.data_offset is None and len(self.head) < 8:
                self.head += data[: 8 - len(self.head)]
                if len(self.head) == 8:
                    length = int.from_bytes(self.head, "little")
                    self.data_offset = 8 + length if length < 100_000_000 else None
                    if self.data_offset is None:
                        self.tail = None  # not a safetensors header: no AutoV3
            if self.tail is not None and self.data_offset is not None and self.done + len(data) > self.data_offset:
                self.tail.update(data[max(0, self.data_offset - self.done):])
        self.done += len(data)

    def autov3(self) -> str | None:
        if self.tail is None or self.data_offset is None or self.done <= self.data_offset:
            return None
        return str(self.tail.hexdigest())[:12]


class _Interrupted(Exception):
    """The transfer stopped before the end; what arrived is in the .part file."""


def _chunks(response: Any) -> Iterator[bytes]:
    """The body as it arrives: `read1` hands over what came before a broken connection, where reading
    fixed-size blocks would lose the last incomplete one (urllib3 before 2.3 lacks it: small blocks then)."""
    read1 = getattr(response.raw, "read1", None)
    if read1 is None:
        yield from (chunk for chunk in response.iter_content(64 * 1024) if chunk)
        return
    while chunk := read1(CHUNK_BYTES):
        yield chunk


def _open_part(path: Path, append: bool) -> IO[bytes]:
    return open(path, "ab" if append else "wb")  # noqa: SIM115 (the caller closes it)


def download(
    plan: DownloadPlan,
    session: HardenedSession,
    cache_dir: str | Path,
    api_key: str | None = None,
    progress: Progress | None = None,
    write_sidecar: bool = True,
    now: Callable[[], float] = time.time,
) -> DownloadResult:
    """Download, verify and install the planned file (see the module docstring). Raises DownloadError."""
    with _claim(plan.final):
        return _Download(plan, session, Path(cache_dir), api_key, progress, write_sidecar, now).run()


class _Download:
    def __init__(self, plan: DownloadPlan, session: HardenedSession, cache_dir: Path, api_key: str | None,
                 progress: Progress | None, write_sidecar: bool, now: Callable[[], float]) -> None:
        self.plan = plan
        self.session = session
        self.cache_dir = cache_dir
        self.api_key = api_key
        self.progress = progress
        self.write_sidecar = write_sidecar
        self.now = now
        self.safetensors = suffix_of(plan.file_name) in (".safetensors", ".sft")
        self.hasher = _StreamHasher(self.safetensors)
        self.received = 0

    # Each failure says what is left: a .part to resume, or nothing.
    def _left(self) -> str:
        part = self.plan.part
        size = part.stat().st_size if part.exists() else 0
        if size:
            return f" {human_size(size)} are kept in {part.name}: run the download again to resume it."
        part.unlink(missing_ok=True)
        return " Nothing was installed."

    def _drop_part(self) -> None:
        self.plan.part.unlink(missing_ok=True)

    def run(self) -> DownloadResult:
        plan = self.plan
        started = time.monotonic()
        requests_before = self.session.log.requests
        plan.folder.mkdir(parents=True, exist_ok=True)
        present = self._already_present()
        if present is not None:
            return present
        have = plan.part.stat().st_size if plan.part.exists() else 0
        if plan.size is not None and have > self._limit(plan.size):
            self._drop_part()  # bigger than the file can be: not ours to resume
            have = 0
        self._check_space(have)
        if have:
            self._hash_part()
        resumed_from = have
        offset = self._fetch(have)
        sha = self.hasher.whole.hexdigest()
        if sha != plan.sha256:
            self._drop_part()
            site = "CivitAI" if plan.site == "civitai" else "Hugging Face"
            raise DownloadError("mismatch", f"SHA-256 mismatch: the downloaded file hashes to {sha}, {site} publishes "
                                f"{plan.sha256}. The partial file was deleted; nothing was installed.")
        record, autov3 = self._install()
        return DownloadResult(plan, "downloaded", plan.final, sha, autov3, offset, self.received, resumed_from,
                              time.monotonic() - started, self.session.log.requests - requests_before, record)

    def _limit(self, size: int) -> int:
        return size if self.plan.size_exact else int(size * (1 + SIZE_SLACK)) + SIZE_SLACK_BYTES

    def _already_present(self) -> DownloadResult | None:
        final = self.plan.final
        if not final.exists():
            return None
        cache = HashCache(self.cache_dir)
        hashes = cache.hashes(final)
        if hashes.sha256 != self.plan.sha256:
            raise DownloadError("exists", f"{final.name} exists in that folder with other content; choose another "
                                "name (save_as) or folder. Nothing was downloaded.")
        record = self._write_record(hashes.sha256, hashes.autov3, sidecar=False)
        return DownloadResult(self.plan, "already_present", final, hashes.sha256, hashes.autov3,
                              final.stat().st_size, 0, 0, 0.0, 0, record)

    def _check_space(self, have: int) -> None:
        if self.plan.size is None:
            return
        needed = max(0, self.plan.size - have)
        free = shutil.disk_usage(self.plan.folder).free
        if needed > free:
            raise DownloadError("disk_full", f"not enough free disk space: {self.plan.file_name} needs "
                                f"{human_size(needed)} more, the folder's disk has {human_size(free)} free. "
                                "Nothing was downloaded." + (f" {human_size(have)} are kept in {self.plan.part.name}."
                                                             if have else ""))

    def _hash_part(self) -> None:
        with open(self.plan.part, "rb") as f:
            while chunk := f.read(CHUNK_BYTES):
                self.hasher.update(chunk)

    def _fetch(self, offset: int) -> int:
        """Transfer until the file is complete, resuming after broken connections; returns its size."""
        plan = self.plan
        secret: Secret | None = None
        attempt = 0
        delay = self.session.settings.backoff_start
        while True:
            try:
                return self._transfer(offset, secret)
            except OnlineError as exc:
                if exc.reason == "auth" and plan.site == "civitai" and secret is None and self.api_key:
                    # Only now, and only to CivitAI's host: the key identifies the user.
                    secret = Secret(origin(plan.url), "Authorization", f"Bearer {self.api_key}")
                    continue
                raise self._online_failure(exc, secret is not None) from exc
            except _Interrupted as exc:
                offset = plan.part.stat().st_size if plan.part.exists() else 0
                attempt += 1
                if attempt > self.session.settings.retries:
                    raise DownloadError("interrupted", f"the download broke off ({exc})." + self._left()) from exc
                log.info("Intelligent Generation: download interrupted (%s); resuming in %.1f s", exc, delay)
                self.session.pause(delay)
                delay = min(delay * 2, self.session.settings.backoff_max)
            except OSError as exc:
                if exc.errno in DISK_FULL:
                    self._drop_part()
                    raise DownloadError("disk_full", f"the disk (or your quota) ran out while writing "
                                        f"{plan.part.name} ({exc.strerror}). The partial file was deleted; "
                                        "nothing was installed.") from exc
                raise DownloadError("write", f"cannot write {plan.part.name}: {exc.strerror or exc}." + self._left()) \
                    from exc

    def _online_failure(self, exc: OnlineError, key_sent: bool) -> DownloadError:
        plan = self.plan
        if exc.reason == "auth":
            if plan.site != "civitai":
                return DownloadError("auth", f"Hugging Face refused the download ({exc}): the repository is gated "
                                     "or private; this pack downloads public files only." + self._left())
            if key_sent:
                return DownloadError("key_refused", f"CivitAI refused the API key ({exc}): check the key, or whether "
                                     "the model is in early access." + self._left())
            return DownloadError("needs_key", f"CivitAI lets only signed-in users download this model ({exc}). "
                                 "Create an API key on civitai.com (User settings > API Keys) and give it to ComfyUI "
                                 f"as the environment variable {API_KEY_ENV} or the setting {API_KEY_SETTING}, then "
                                 "run again: it is sent only to CivitAI, only for downloads that need it."
                                 + self._left())
        if exc.reason == "redirect":
            return DownloadError("redirect", f"refused: {exc}; downloads come only from the site or its own storage."
                                 + self._left())
        if exc.reason == "rate_limited":
            return DownloadError("rate_limited", f"the site is limiting requests ({exc}); try again later."
                                 + self._left())
        if exc.reason == "not_found":
            return DownloadError("not_found", f"the site has no such file ({exc})." + self._left())
        return DownloadError(exc.reason, f"the download failed: {exc}." + self._left())

    def _restart(self, why: str) -> None:
        log.info("Intelligent Generation: %s; downloading %s from the start", why, self.plan.file_name)
        self._drop_part()
        self.hasher = _StreamHasher(self.safetensors)

    def _transfer(self, offset: int, secret: Secret | None) -> int:
        import requests
        import urllib3

        plan = self.plan
        with self.session.open_download(plan.url, offset, secret) as response:
            if response.status_code == 416:
                return offset  # the .part already holds every byte: verify it
            kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if kind in ("text/html", "application/xhtml+xml", "application/json"):
                raise DownloadError("not_a_file", f"the site sent a {kind} page instead of the file (a sign-in or "
                                    "error page)." + self._left())
            start = offset
            total: int | None = None
            if response.status_code == 206:
                match = _CONTENT_RANGE.match(response.headers.get("Content-Range", "").strip())
                if not match or int(match.group(1)) != offset:
                    self._restart("the server answered another byte range")
                    raise _Interrupted("the server answered another byte range")
                total = int(match.group(3)) if match.group(3) != "*" else None
            else:
                if offset:
                    self._restart("the server does not resume downloads")
                    start = 0
                length = response.headers.get("Content-Length", "")
                total = int(length) if length.isdigit() else None
            self._check_total(total)
            limit = total if total is not None else self._limit(plan.size) if plan.size is not None else None
            done = start
            online = self.session.settings
            dog = Watchdog(response, too_slow(online.min_download_rate, online.stall_window_s))
            try:
                with dog, _open_part(plan.part, append=start > 0) as f:
                    for chunk in _chunks(response):
                        if limit is not None and done + len(chunk) > limit:
                            f.close()
                            self._drop_part()
                            raise DownloadError("too_large", f"the server sent more than the file's {human_size(limit)};"
                                                " the partial file was deleted, nothing was installed.")
                        f.write(chunk)
                        self.hasher.update(chunk)
                        done += len(chunk)
                        dog.received += len(chunk)
                        self.received += len(chunk)
                        if self.progress:
                            self.progress(done, total or plan.size)
                    f.flush()
                    os.fsync(f.fileno())
            except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, ConnectionError,
                    TimeoutError) as exc:
                why = (f"under {human_size(online.min_download_rate)} in {online.stall_window_s:g} s"
                       if dog.fired else type(exc).__name__)
                raise _Interrupted(f"at {human_size(done)} of {human_size(total or plan.size)}: {why}") from exc
            except OSError as exc:  # a closed socket reads as an OSError; a full disk is no stall
                if not dog.fired:
                    raise
                raise _Interrupted(f"at {human_size(done)} of {human_size(total or plan.size)}: under "
                                   f"{human_size(online.min_download_rate)} in {online.stall_window_s:g} s") from exc
        if total is not None and done < total:
            raise _Interrupted(f"the connection closed at {human_size(done)} of {human_size(total)}")
        return done

    def _check_total(self, total: int | None) -> None:
        size = self.plan.size
        if total is None or size is None:
            return
        if total > self._limit(size) or (not self.plan.size_exact and total < size * (1 - SIZE_SLACK) - SIZE_SLACK_BYTES) \
                or (self.plan.size_exact and total != size):
            self._drop_part()
            raise DownloadError("size", f"the server sends {human_size(total)} but the site publishes "
                                f"{human_size(size)} for {self.plan.published_name}: refused, nothing was installed.")

    def _install(self) -> tuple[dict[str, Any], str | None]:
        """Record first (cache and sidecar), then the atomic rename, then the hash cache."""
        plan = self.plan
        sha = self.hasher.whole.hexdigest()
        autov3 = self._embedded_autov3() or self.hasher.autov3()
        if plan.final.exists():
            raise DownloadError("exists", f"{plan.final.name} appeared in the folder during the download; the "
                                f"verified file is kept as {plan.part.name}.")
        record = self._write_record(sha, autov3, sidecar=self.write_sidecar)
        try:
            os.replace(plan.part, plan.final)
        except OSError as exc:
            plan.final.with_name(plan.final.stem + records.SIDECAR_SUFFIX).unlink(missing_ok=True)
            raise DownloadError("write", f"cannot rename {plan.part.name}: {exc.strerror or exc}.") from exc
        HashCache(self.cache_dir).put(plan.final, FileHashes(sha, autov3), os.stat(plan.final))
        return record, autov3

    def _embedded_autov3(self) -> str | None:
        """kohya's sshs_model_hash, which the hash cache prefers too (services/library/hashing.py)."""
        if not self.safetensors:
            return None
        from ..library.safetensors_header import HeaderError, read_header

        try:
            value = read_header(self.plan.part).metadata.get("sshs_model_hash")
        except HeaderError:
            return None
        return value.lower()[:12] if isinstance(value, str) and re.fullmatch(r"[0-9a-fA-F]{12,64}", value) else None

    def _write_record(self, sha: str, autov3: str | None, sidecar: bool) -> dict[str, Any]:
        plan = self.plan
        hashes: dict[str, str | None] = {"sha256": sha, "autov2": sha[:10], "autov3": autov3, "blake3": None}
        record = records.load_record(self.cache_dir, sha) or records.new_record(hashes)
        record = records.apply_lookup(record, plan.site, True, plan.fields, self.now(),
                                      self.session.settings.found_ttl_s, plan.ids)
        record["hashes"] = {**hashes, **{k: v for k, v in record["hashes"].items() if v}}
        records.save_record(self.cache_dir, record)
        if sidecar:
            records.write_sidecar(plan.final, record)
        return record


Progress = Callable[[int, int | None], None]  # (bytes in the file so far, total when known)


_active: set[str] = set()


_active_lock = threading.Lock()
