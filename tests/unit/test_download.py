"""Downloading a model against loopback CivitAI and Hugging Face fakes: each case ends with a verified
file in place or none, and a message that says so."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes.civitai_server import FakeCivitai, Fault, civitai_model, version_for_file
from fakes.clock import FakeTime
from fakes.huggingface_server import FakeHuggingFace, hf_model
from fakes.loopback import FileServer, Recorder
from model_files import write_safetensors

from services.library import model_records as records
from services.library.hashing import HashCache
from services.library.scan import folders_under, scan
from services.online import download as dl
from services.online import download_target as target
from services.online.download import download
from services.online.download_target import DownloadError, DownloadRequest, resolve
from services.online.lookups import FetchOptions, fetch_metadata, targets_from_library
from services.online.session import USER_AGENT, HardenedSession, OnlineSettings

ROOT = Path(__file__).resolve().parents[2]
SD15_LORA = {"lora_unet_input_blocks_1_1_transformer_blocks_0_attn2_to_k.lora_down.weight": [4, 768],
             "lora_unet_input_blocks_1_1_transformer_blocks_0_attn2_to_k.lora_up.weight": [320, 160]}
KEY = "s3cretKEY-0123456789"


def backoff(t: FakeTime) -> list[float]:
    """The waits between attempts, without the rate limiter's millisecond spacing."""
    return [s for s in t.sleeps if s >= 0.5]


def lora_bytes(tmp_path: Path, name: str = "src.safetensors", metadata: dict[str, str] | None = None) -> bytes:
    return write_safetensors(tmp_path / "src" / name, SD15_LORA, metadata).read_bytes()


@pytest.fixture
def data(tmp_path: Path) -> bytes:
    return lora_bytes(tmp_path)  # about 110 KB


@pytest.fixture
def civitai(data: bytes) -> Iterator[FakeCivitai]:
    version = version_for_file(data, 7, 701, file_name="PixelPerfect_v2.safetensors", model_name="Pixel Perfect",
                               trained_words=["pixel art"])
    model = civitai_model(7, name="Pixel Perfect", tags=["pixel art", "style"])
    with FakeCivitai([version], {7: model}, files={701: data}) as fake:
        yield fake


@pytest.fixture
def models(tmp_path: Path) -> Path:
    root = tmp_path / "models"
    for kind in ("checkpoints", "loras", "vae"):
        (root / kind).mkdir(parents=True)
    return root


def session(civitai: FakeCivitai | None = None, hf: FakeHuggingFace | None = None, t: FakeTime | None = None,
            **overrides: Any) -> HardenedSession:
    values: dict[str, Any] = {"civitai_url": civitai.url if civitai else "https://civitai.invalid",
                              "hf_url": hf.url if hf else "https://hf.invalid", "rate_per_second": 1000.0,
                              "retries": 0, **overrides}
    t = t or FakeTime()
    return HardenedSession(OnlineSettings(**values), clock=t.clock, sleep=t.sleep, wall_clock=lambda: 0.0)


def civitai_request(**changes: Any) -> DownloadRequest:
    return DownloadRequest(**{"kind": "loras", "civitai_version": 701, **changes})


def get(s: HardenedSession, request: DownloadRequest, models: Path, cache: Path, **kwargs: Any) -> dl.DownloadResult:
    plan = resolve(request, s, models / request.kind)
    return download(plan, s, cache, **kwargs)


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_clean_download_installs_a_verified_file_with_its_record(civitai: FakeCivitai, data: bytes, models: Path,
                                                                  tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    seen: list[tuple[int, int | None]] = []
    with session(civitai) as s:
        result = get(s, civitai_request(), models, cache, progress=lambda d, t: seen.append((d, t)))
    sha = hashlib.sha256(data).hexdigest()
    final = models / "loras" / "PixelPerfect_v2.safetensors"
    assert result.status == "downloaded" and result.path == final and result.sha256 == sha
    assert final.read_bytes() == data
    assert files_in(models / "loras") == ["PixelPerfect_v2.ig.json", "PixelPerfect_v2.safetensors"]  # no .part
    assert seen[-1] == (len(data), len(data)) and all(d <= len(data) for d, _ in seen)
    # What went out: the version id, the model id CivitAI named, the download; fixed headers only.
    assert [r.path for r in civitai.requests] == ["/api/v1/model-versions/701", "/api/v1/models/7",
                                                  "/api/download/models/701"]
    for r in civitai.requests:
        headers = {k.lower(): v for k, v in r.headers.items()}
        assert headers["user-agent"] == USER_AGENT and "authorization" not in headers and "cookie" not in headers
    # The record is there at once, keyed by the verified SHA-256, and the hash cache knows the file.
    record = records.load_record(cache, sha)
    assert record and record["name"] == "Pixel Perfect" and record["base_model"] == "SD 1.5"
    assert record["trigger_words"] == ["pixel art"] and record["lookups"]["civitai"]["version_id"] == 701
    cached = HashCache(cache).get(final)
    assert cached and cached.sha256 == sha and cached.autov3 == result.autov3 and len(result.autov3 or "") == 12
    assert cached.autov3 == HashCache(tmp_path / "fresh").hashes(final).autov3  # AutoV3 as hashing computes it
    # The next scan lists it with its metadata; no lookup, no hashing needed.
    entry = scan(folders_under(models)).find("loras", "PixelPerfect_v2.safetensors")
    assert entry and entry.base_model == "SD 1.5" and entry.trigger_words == ["pixel art"]
    assert "intelligent_generation" in entry.sources
    report = fetch_metadata(targets_from_library(scan(folders_under(models))), cache, options=FetchOptions(online=False))
    assert (report.counts.hash_cache_hits, report.counts.hashed) == (1, 0)
    assert report.results[0].record and report.results[0].record["name"] == "Pixel Perfect"


def test_interrupted_download_keeps_the_part_and_resumes_with_a_range(civitai: FakeCivitai, data: bytes,
                                                                      models: Path, tmp_path: Path) -> None:
    civitai.fail("/api/download/", Fault.cut(40_000))
    with session(civitai) as s, pytest.raises(DownloadError) as failed:
        get(s, civitai_request(), models, tmp_path / "cache")
    assert failed.value.reason == "interrupted"
    assert "kept in PixelPerfect_v2.safetensors.part" in str(failed.value) and "run the download again" in str(failed.value)
    part = models / "loras" / "PixelPerfect_v2.safetensors.part"
    assert files_in(models / "loras") == [part.name] and part.read_bytes() == data[:40_000]

    civitai.requests.clear()
    with session(civitai) as s:
        result = get(s, civitai_request(), models, tmp_path / "cache")
    [fetch] = civitai.by_path("/api/download/")
    assert fetch.headers["Range"] == "bytes=40000-"
    assert (result.resumed_from, result.received) == (40_000, len(data) - 40_000)
    assert (models / "loras" / "PixelPerfect_v2.safetensors").read_bytes() == data and not part.exists()


def test_a_download_dripped_a_byte_at_a_time_is_cut_and_kept_resumable(civitai: FakeCivitai, models: Path,
                                                                       tmp_path: Path) -> None:
    civitai.fail("/api/download/", Fault.drip(0.05))
    with session(civitai, retries=0, min_download_rate=1024 * 1024, stall_window_s=1.0) as s, \
            pytest.raises(DownloadError) as failed:
        get(s, civitai_request(), models, tmp_path / "cache")
    assert failed.value.reason == "interrupted" and "in 1 s" in str(failed.value)
    assert files_in(models / "loras") == ["PixelPerfect_v2.safetensors.part"]  # nothing installed, resumable


def test_a_broken_connection_is_resumed_within_the_same_call(civitai: FakeCivitai, data: bytes, models: Path,
                                                             tmp_path: Path) -> None:
    civitai.fail("/api/download/", Fault.cut(30_000), times=2)
    t = FakeTime()
    with session(civitai, t=t, retries=3) as s:
        result = get(s, civitai_request(), models, tmp_path / "cache")
    ranges = [r.headers.get("Range") for r in civitai.by_path("/api/download/")]
    assert ranges == [None, "bytes=30000-", "bytes=60000-"]
    assert backoff(t) == [1.0, 2.0]  # the usual back-off between resumptions
    assert result.resumed_from == 0 and result.received == len(data)
    assert (models / "loras" / "PixelPerfect_v2.safetensors").read_bytes() == data


def test_hash_mismatch_deletes_the_partial_file(data: bytes, models: Path, tmp_path: Path) -> None:
    version = version_for_file(data, 7, 701, file_name="PixelPerfect_v2.safetensors")
    tampered = data[:-1] + b"\x01"
    with FakeCivitai([version], {7: civitai_model(7)}, files={701: tampered}) as fake, session(fake) as s, \
            pytest.raises(DownloadError) as failed:
        get(s, civitai_request(), models, tmp_path / "cache")
    assert failed.value.reason == "mismatch"
    message = str(failed.value)
    assert "SHA-256 mismatch" in message and hashlib.sha256(data).hexdigest() in message
    assert "partial file was deleted; nothing was installed" in message
    assert files_in(models / "loras") == []
    assert not (tmp_path / "cache" / "model_records").exists()


def test_a_model_that_needs_a_key_says_so_and_the_key_goes_only_to_civitai(
        data: bytes, models: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    version = version_for_file(data, 7, 701, file_name="Gated.safetensors")
    with FileServer({"/model/701/file.safetensors": data}) as storage, \
            FakeCivitai([version], {7: civitai_model(7)}, files={701: data}, api_key=KEY, key_required={701},
                        storage=storage.url) as fake:
        with session(fake) as s, pytest.raises(DownloadError) as failed:
            get(s, civitai_request(), models, tmp_path / "cache")
        assert failed.value.reason == "needs_key"
        assert target.API_KEY_ENV in str(failed.value) and "Nothing was installed" in str(failed.value)
        assert files_in(models / "loras") == []

        fake.requests.clear()
        with session(fake, download_hosts=(storage.url,)) as s:
            result = get(s, civitai_request(), models, tmp_path / "cache", api_key=KEY)
        assert result.status == "downloaded"
        auth = [(r.path, r.headers.get("Authorization")) for r in fake.requests]
        assert auth == [("/api/v1/model-versions/701", None), ("/api/v1/models/7", None),
                        ("/api/download/models/701", None), ("/api/download/models/701", f"Bearer {KEY}")]
        [stored] = storage.requests
        assert "Authorization" not in stored.headers and KEY not in json.dumps(stored.headers)  # redirect: dropped
    sidecar = (models / "loras" / "Gated.ig.json").read_text()
    record_files = list((tmp_path / "cache" / "model_records").iterdir())
    assert KEY not in sidecar and all(KEY not in f.read_text() for f in record_files)
    assert KEY not in caplog.text and KEY not in str(failed.value)


def test_a_refused_key_is_reported_as_such(data: bytes, models: Path, tmp_path: Path) -> None:
    version = version_for_file(data, 7, 701, file_name="Gated.safetensors")
    with FakeCivitai([version], {7: civitai_model(7)}, files={701: data}, api_key=KEY, key_required={701}) as fake, \
            session(fake) as s, pytest.raises(DownloadError) as failed:
        get(s, civitai_request(), models, tmp_path / "cache", api_key="wrong-key-123")
    assert failed.value.reason == "key_refused" and "wrong-key" not in str(failed.value)
    assert files_in(models / "loras") == []


def test_429_is_waited_out_and_a_long_retry_after_stops(civitai: FakeCivitai, data: bytes, models: Path,
                                                          tmp_path: Path) -> None:
    civitai.fail("/api/download/", Fault.status_code(429, retry_after="2"))
    t = FakeTime()
    with session(civitai, t=t, retries=2) as s:
        result = get(s, civitai_request(), models, tmp_path / "cache")
    assert result.status == "downloaded" and backoff(t) == [2.0]

    (models / "loras" / "PixelPerfect_v2.safetensors").unlink()
    civitai.fail("/api/download/", Fault.status_code(429, retry_after="3600"))
    with session(civitai, retries=2) as s, pytest.raises(DownloadError) as failed:
        get(s, civitai_request(), models, tmp_path / "cache")
    assert failed.value.reason == "rate_limited" and "try again later" in str(failed.value)
    assert "Nothing was installed" in str(failed.value)
    assert files_in(models / "loras") == ["PixelPerfect_v2.ig.json"]  # from the first download; no model, no part


def test_full_disk_is_refused_before_downloading(civitai: FakeCivitai, models: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda path: real(path)._replace(free=50_000))
    with session(civitai) as s, pytest.raises(DownloadError) as failed:
        get(s, civitai_request(), models, tmp_path / "cache")
    assert failed.value.reason == "disk_full"
    assert "not enough free disk space" in str(failed.value) and "50.0 KB free" in str(failed.value)
    assert civitai.by_path("/api/download/") == [] and files_in(models / "loras") == []


def test_a_quota_that_runs_out_while_writing_leaves_nothing(civitai: FakeCivitai, models: Path,
                                                            tmp_path: Path) -> None:
    """The command line under a 64 KB file-size limit: the write fails (EFBIG), the partial file goes."""
    def small_quota() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (64_000, 64_000))

    cmd = [sys.executable, "-m", "services", "download", "--civitai-version", "701", "--kind", "loras",
           "--models-root", str(models), "--cache-dir", str(tmp_path / "cache"), "--civitai-url", civitai.url,
           "--hf-url", "https://hf.invalid", "--rate", "1000", "--yes"]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, preexec_fn=small_quota)
    assert out.returncode == 1, out.stderr
    answer = json.loads(out.stdout.splitlines()[-1])
    assert answer["status"] == "failed" and answer["reason"] == "disk_full"
    assert "ran out" in answer["error"] and "nothing was installed" in answer["error"]
    assert files_in(models / "loras") == []


def test_a_redirect_to_a_foreign_host_is_refused(civitai: FakeCivitai, models: Path, tmp_path: Path) -> None:
    with Recorder() as foreign:
        civitai.fail("/api/download/", Fault.redirect(foreign.url + "/model.safetensors"))
        with session(civitai) as s, pytest.raises(DownloadError) as failed:
            get(s, civitai_request(), models, tmp_path / "cache", api_key=KEY)
    assert failed.value.reason == "redirect" and "refused a redirect to another host" in str(failed.value)
    assert foreign.requests == [] and files_in(models / "loras") == []


def test_pickle_files_are_refused_unless_allowed(data: bytes, models: Path, tmp_path: Path) -> None:
    version = version_for_file(data, 7, 701, file_name="old_style.ckpt")
    with FakeCivitai([version], {7: civitai_model(7)}, files={701: data}) as fake, session(fake) as s:
        with pytest.raises(DownloadError) as failed:
            get(s, civitai_request(), models, tmp_path / "cache")
        assert failed.value.reason == "pickle" and "can run any code" in str(failed.value)
        assert fake.by_path("/api/download/") == [] and files_in(models / "loras") == []
        result = get(s, civitai_request(allow_pickle=True), models, tmp_path / "cache")
    assert result.path.name == "old_style.ckpt" and result.path.read_bytes() == data
    assert any("pickle" in note for note in result.plan.notes)


def test_the_site_type_must_match_the_kind_and_names_stay_in_the_folder(data: bytes, models: Path,
                                                                        tmp_path: Path) -> None:
    version = version_for_file(data, 7, 701, file_name="../../evil/..\\CON.safetensors", model_type="Checkpoint")
    with FakeCivitai([version], {7: civitai_model(7, model_type="Checkpoint")}, files={701: data}) as fake, \
            session(fake) as s:
        with pytest.raises(DownloadError) as failed:
            resolve(civitai_request(), s, models / "loras")
        assert failed.value.reason == "kind" and "choose kind checkpoints" in str(failed.value)
        plan = resolve(civitai_request(kind="checkpoints"), s, models / "checkpoints")
    assert plan.file_name == "_CON.safetensors" and plan.final.parent == models / "checkpoints"


@pytest.mark.parametrize("version_type, model_type", [("Checkpoint", "LORA"), ("", "")])
def test_a_kind_the_site_does_not_state_plainly_is_refused(data: bytes, models: Path, version_type: str,
                                                           model_type: str) -> None:
    version = version_for_file(data, 7, 701, model_type=version_type)
    with FakeCivitai([version], {7: civitai_model(7, model_type=model_type)}, files={701: data}) as fake, \
            session(fake) as s:
        with pytest.raises(DownloadError) as failed:
            resolve(civitai_request(), s, models / "loras")
    assert failed.value.reason == "kind" and "Nothing was downloaded" in str(failed.value).replace("nothing", "Nothing")


def test_an_existing_file_is_kept_or_recognised(civitai: FakeCivitai, data: bytes, models: Path,
                                                 tmp_path: Path) -> None:
    (models / "loras" / "PixelPerfect_v2.safetensors").write_bytes(b"someone else's file")
    with session(civitai) as s:
        with pytest.raises(DownloadError) as failed:
            get(s, civitai_request(), models, tmp_path / "cache")
        assert failed.value.reason == "exists" and "choose another name" in str(failed.value)
        result = get(s, civitai_request(save_as="pixel_perfect"), models, tmp_path / "cache")
        assert result.path.name == "pixel_perfect.safetensors"
        civitai.requests.clear()
        again = get(s, civitai_request(save_as="pixel_perfect"), models, tmp_path / "cache")
    assert again.status == "already_present" and again.received == 0
    assert civitai.by_path("/api/download/") == []
    assert (models / "loras" / "PixelPerfect_v2.safetensors").read_bytes() == b"someone else's file"


def test_hugging_face_file_through_its_storage(tmp_path: Path, models: Path) -> None:
    data = lora_bytes(tmp_path, metadata={"ss_base_model_version": "sdxl_base_v1-0"})
    repo = "someone/pixel-lora"
    with FileServer({f"/xet/{repo}/weights/pixel_lora.safetensors": data}) as storage, \
            FakeHuggingFace({repo: hf_model(repo)}, files={repo: {"weights/pixel_lora.safetensors": data,
                                                                  "README.md": b"# card"}},
                            storage=storage.url) as hf:
        request = DownloadRequest(kind="loras", hf_repo=repo, hf_file="weights/pixel_lora.safetensors")
        with session(hf=hf, download_hosts=(storage.url,)) as s:
            result = get(s, request, models, tmp_path / "cache")
        assert [r.path for r in hf.requests] == [f"/api/models/{repo}",
                                                 f"/{repo}/resolve/{'a' * 40}/weights/pixel_lora.safetensors"]
        assert hf.requests[0].query == {"blobs": ["true"]} and len(storage.requests) == 1
    assert result.path == models / "loras" / "pixel_lora.safetensors" and result.path.read_bytes() == data
    record = records.load_record(tmp_path / "cache", result.sha256)
    assert record and record["lookups"]["huggingface"]["repo_id"] == repo and record["source"] == ["huggingface"]


def test_hugging_face_refuses_what_it_cannot_verify(tmp_path: Path, models: Path) -> None:
    repo = "someone/pixel-lora"
    info = hf_model(repo)
    info["siblings"] = [{"rfilename": "small.safetensors", "size": 10}]  # no LFS: no published SHA-256
    with FakeHuggingFace({repo: info}) as hf, session(hf=hf) as s, pytest.raises(DownloadError) as failed:
        resolve(DownloadRequest(kind="loras", hf_repo=repo, hf_file="small.safetensors"), s, models / "loras")
    assert failed.value.reason == "no_hash" and "could not be verified" in str(failed.value)
    for bad in ("../etc/passwd", "a//b.safetensors", ""):
        with pytest.raises(DownloadError):
            DownloadRequest(kind="loras", hf_repo=repo, hf_file=bad).checked()
    with pytest.raises(DownloadError):
        DownloadRequest(kind="loras", hf_repo="../x", hf_file="a.safetensors").checked()


def test_api_key_is_read_at_call_time_and_checked(tmp_path: Path) -> None:
    settings = tmp_path / "comfy.settings.json"
    settings.write_text(json.dumps({target.API_KEY_SETTING: "  from-settings-123 "}))
    assert target.read_api_key({}, settings) == "from-settings-123"
    assert target.read_api_key({target.API_KEY_ENV: "from-env-12345"}, settings) == "from-env-12345"
    assert target.read_api_key({target.API_KEY_ENV: "bad key\r\nX-Injected: 1"}) is None
    assert target.read_api_key({}, tmp_path / "missing.json") is None


def test_command_line_plans_without_yes_and_downloads_with_it(civitai: FakeCivitai, data: bytes, models: Path,
                                                              tmp_path: Path) -> None:
    base = [sys.executable, "-m", "services", "download", "--civitai-version", "701", "--kind", "loras",
            "--models-root", str(models), "--cache-dir", str(tmp_path / "cache"), "--civitai-url", civitai.url,
            "--hf-url", "https://hf.invalid", "--rate", "1000"]
    env = {k: v for k, v in os.environ.items() if k != target.API_KEY_ENV}
    planned = subprocess.run(base, cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert planned.returncode == 0, planned.stderr
    answer = json.loads(planned.stdout)
    assert answer["status"] == "planned" and answer["file_name"] == "PixelPerfect_v2.safetensors"
    assert answer["sha256"] == hashlib.sha256(data).hexdigest() and "--yes" in planned.stderr
    assert files_in(models / "loras") == [] and civitai.by_path("/api/download/") == []

    done = subprocess.run(base + ["--yes"], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["status"] == "downloaded" and answer["size"] == len(data) and answer["received"] == len(data)
    assert "downloading PixelPerfect_v2.safetensors: 100%" in done.stderr and "SHA-256 verified" in done.stderr
    assert str(tmp_path) not in done.stdout  # no local path in the JSON


def test_download_redirects_go_only_to_the_sites_storage() -> None:
    from services.online.session import download_host_allowed

    settings = OnlineSettings()
    allowed = ["https://civitai.com/api/download/models/1", "https://b2.civitai.com/file",
               "https://civitai-delivery-worker-prod.5ac0637cfd0766c97916cefa3764fbdf.r2.cloudflarestorage.com/m/x",
               "https://cas-bridge.xethub.hf.co/xet-bridge-us/abc", "https://cdn-lfs.huggingface.co/repos/x"]
    refused = ["http://b2.civitai.com/file", "https://evilcivitai.com/x", "https://civitai.com.evil.net/x",
               "https://other-bucket.r2.cloudflarestorage.com/x", "https://hf.co.evil.net/x",
               "https://cas-bridge.xethub.hf.co:8443/x", "https://example.com/model.safetensors"]
    assert [download_host_allowed(u, settings) for u in allowed] == [True] * len(allowed)
    assert [download_host_allowed(u, settings) for u in refused] == [False] * len(refused)
