"""The Metadata Fetcher's run over a library, against loopback CivitAI and Hugging Face fakes."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fakes.civitai_server import FakeCivitai, Fault, civitai_model, civitai_version, example_image
from fakes.clock import FakeTime
from fakes.huggingface_server import FakeHuggingFace, hf_model
from fakes.loopback import Recorder
from model_files import write_safetensors

from services.__main__ import main
from services.library import model_records as records
from services.library.scan import folders_under, scan
from services.online.lookups import FetchOptions, FetchReport, FetchTarget, fetch_metadata, targets_from_library
from services.online.session import USER_AGENT, HardenedSession, OnlineSettings

T0 = 1_800_000_000.0  # a fixed "now" for record expiry
HOUR = 3600.0
KEYS = ["files", "hashed", "hash_cache_hits", "found", "not_found", "errors", "requests", "previews"]


@dataclass
class Library:
    root: Path
    files: dict[str, Path]  # short label -> file

    def sha(self, label: str) -> str:
        return hashlib.sha256(self.files[label].read_bytes()).hexdigest()

    def targets(self) -> list[FetchTarget]:
        return targets_from_library(scan(folders_under(self.root)))


@pytest.fixture
def library(tmp_path: Path) -> Library:
    root = tmp_path / "private_user_models"
    files = {
        "lora_a": write_safetensors(root / "loras" / "secret_lora_alpha.safetensors", {"a": [4, 4]}),
        "lora_b": write_safetensors(root / "loras" / "sub" / "secret_lora_beta.safetensors", {"a": [4, 8]}),
        "ckpt": write_safetensors(root / "checkpoints" / "secret_checkpoint.safetensors", {"a": [8, 8]}),
        "unknown": write_safetensors(root / "loras" / "secret_homemade.safetensors", {"a": [2, 2]},
                                     {"ss_output_name": "my private prompt"}),
    }
    return Library(root, files)


def versions_for(lib: Library) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
    versions = [
        civitai_version(lib.sha("lora_a"), 11, 101, trained_words=["alpha style"], images=[
            example_image("cat <lora:alpha:0.6>", steps=20), example_image("dog <lora:alpha:0.7>", steps=20),
            example_image("cow <lora:alpha:0.7>", steps=30)]),
        civitai_version(lib.sha("lora_b"), 11, 102, name="v2.0", trained_words=["alpha style v2"]),
        civitai_version(lib.sha("ckpt"), 12, 201, model_name="Photo Mix", model_type="Checkpoint",
                        trained_words=[]),
    ]
    models = {11: civitai_model(11, name="Alpha Style", tags=["style", "painting"]),
              12: civitai_model(12, name="Photo Mix", model_type="Checkpoint", tags=["photorealistic"])}
    return versions, models


@pytest.fixture
def civitai(library: Library) -> Iterator[FakeCivitai]:
    versions, models = versions_for(library)
    with FakeCivitai(versions, models) as fake:
        yield fake


@pytest.fixture
def hf() -> Iterator[FakeHuggingFace]:
    with FakeHuggingFace({"someone/alpha-lora": hf_model("someone/alpha-lora")}) as fake:
        yield fake


def run(targets: list[FetchTarget], cache: Path, civitai: FakeCivitai, hf_url: str = "https://hf.invalid",
        now: float = T0, t: FakeTime | None = None, **options: Any) -> tuple[FetchReport, HardenedSession]:
    settings = OnlineSettings(civitai_url=civitai.url, hf_url=hf_url, rate_per_second=50, read_timeout=0.3,
                              retries=2, max_response_bytes=256 * 1024)
    t = t or FakeTime()
    with HardenedSession(settings, clock=t.clock, sleep=t.sleep, wall_clock=lambda: now) as session:
        report = fetch_metadata(targets, cache, settings, FetchOptions(**options), session=session,
                                now=lambda: now)
    return report, session


def counts(report: FetchReport) -> dict[str, int]:
    return report.counts.to_dict()


def adds_up(report: FetchReport) -> bool:
    c = report.counts
    return c.files == c.found + c.not_found + c.errors == c.hashed + c.hash_cache_hits + sum(
        1 for r in report.results if r.hashes is None)


def test_bulk_run_asks_once_per_batch_and_model_and_stores_our_records(
        library: Library, civitai: FakeCivitai, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    report, _ = run(library.targets(), cache, civitai)
    assert counts(report) == {"files": 4, "hashed": 4, "hash_cache_hits": 0, "found": 3, "not_found": 1,
                              "errors": 0, "requests": 3, "previews": 0}
    assert [(r.method, r.path) for r in civitai.requests[:1]] == [("POST", "/api/v1/model-versions/by-hash")]
    assert sorted(r.path for r in civitai.requests[1:]) == ["/api/v1/models/11", "/api/v1/models/12"]
    assert sorted(civitai.requests[0].json()) == sorted(library.sha(k) for k in library.files)

    a = records.load_record(cache, library.sha("lora_a"))
    assert a is not None
    assert a["schema"] == records.SCHEMA and a["schema_version"] == records.SCHEMA_VERSION
    assert (a["status"], a["source"], a["name"], a["version"], a["type"]) == (
        "found", ["civitai"], "Alpha Style", "v1.0", "LORA")
    assert (a["base_model"], a["tags"], a["trigger_words"]) == ("SD 1.5", ["style", "painting"], ["alpha style"])
    assert a["description"] == "A test model"  # HTML reduced to text
    assert a["recommended"]["weight"] == 0.7  # the examples' median
    assert a["recommended"]["parameters"]["steps"] == 20 and a["recommended"]["parameters"]["sampler"] == \
        "DPM++ 2M Karras"
    assert a["popularity"]["downloads"] == 5000
    assert a["hashes"]["sha256"] == library.sha("lora_a") and a["hashes"]["autov2"] == library.sha("lora_a")[:10]
    assert a["lookups"]["civitai"]["model_id"] == 11 and a["lookups"]["civitai"]["version_id"] == 101
    assert a["lookups"]["civitai"]["fetched_at"] == records.utc_iso(T0)
    assert a["lookups"]["civitai"]["expires_at"] == records.utc_iso(T0 + 24 * HOUR)
    assert a["links"]["civitai"].endswith("/models/11?modelVersionId=101")
    unknown = records.load_record(cache, library.sha("unknown"))
    assert unknown is not None and unknown["status"] == "not_found" and unknown["name"] == ""
    assert unknown["lookups"]["civitai"]["expires_at"] == records.utc_iso(T0 + 7 * 24 * HOUR)
    by_name = {r.target.name: r.outcome for r in report.results}
    assert by_name == {"secret_lora_alpha.safetensors": "found", "sub/secret_lora_beta.safetensors": "found",
                       "secret_checkpoint.safetensors": "found", "secret_homemade.safetensors": "not_found"}

    again, _ = run(library.targets(), cache, civitai, now=T0 + HOUR)
    assert counts(again) == {"files": 4, "hashed": 0, "hash_cache_hits": 4, "found": 3, "not_found": 1,
                             "errors": 0, "requests": 0, "previews": 0}
    assert len(civitai.requests) == 3


def test_hits_and_misses_expire_on_their_own_schedules(library: Library, civitai: FakeCivitai, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    run(library.targets(), cache, civitai)
    found = sorted(library.sha(k) for k in ("lora_a", "lora_b", "ckpt"))
    civitai.requests.clear()
    report, _ = run(library.targets(), cache, civitai, now=T0 + 25 * HOUR)
    assert sorted(civitai.requests[0].json()) == found  # the miss is not asked again within a week
    assert counts(report)["requests"] == 3
    civitai.requests.clear()
    report, _ = run(library.targets(), cache, civitai, now=T0 + 8 * 24 * HOUR)
    assert len(civitai.requests[0].json()) == 4
    assert adds_up(report) and counts(report)["found"] == 3


def test_one_file_is_asked_with_get(library: Library, civitai: FakeCivitai, tmp_path: Path) -> None:
    [target] = [t for t in library.targets() if t.name == "secret_lora_alpha.safetensors"]
    report, _ = run([target], tmp_path / "cache", civitai)
    assert [r.path for r in civitai.requests] == [
        f"/api/v1/model-versions/by-hash/{library.sha('lora_a')}", "/api/v1/models/11"]
    assert counts(report)["found"] == 1


def test_batches_hold_at_most_100_hashes(tmp_path: Path) -> None:
    targets = []
    for i in range(101):
        f = tmp_path / "m" / f"file{i}.bin"
        f.parent.mkdir(exist_ok=True)
        f.write_bytes(f"model {i}".encode())
        targets.append(FetchTarget("loras", f.name, str(f)))
    with FakeCivitai() as civitai:
        report, _ = run(targets, tmp_path / "cache", civitai, workers=4)
    assert [(r.method, len(r.json()) if r.method == "POST" else 1) for r in civitai.requests] == [
        ("POST", 100), ("GET", 1)]
    assert counts(report) == {"files": 101, "hashed": 101, "hash_cache_hits": 0, "found": 0, "not_found": 101,
                              "errors": 0, "requests": 2, "previews": 0}


FAULTS = {
    "404-batch": (Fault.status_code(404), 1),
    "429-retry-after": (Fault.status_code(429, retry_after="3"), 1),
    "429-no-retry-after": (Fault.status_code(429), 1),
    "429-long-retry-after": (Fault.status_code(429, retry_after="86400"), 1),
    "500": (Fault.status_code(500), 99),
    "503": (Fault.status_code(503), 99),
    "503-once": (Fault.status_code(503), 1),
    "timeout": (Fault.timeout(5.0), 99),
    "html-challenge": (Fault.html(), 1),
    "html-challenge-403": (Fault.html(status=403), 1),
    "too-large": (Fault.huge(400_000), 1),
    "too-large-no-length": (Fault.huge(400_000, announced=False), 1),
    "redirect-foreign": (None, 1),
    "malformed-json": (Fault.malformed(), 1),
}
RECOVERS = {"429-retry-after", "429-no-retry-after", "503-once"}


@pytest.mark.parametrize("name", list(FAULTS))
def test_fault_matrix_loses_nothing_and_counts_add_up(
        name: str, library: Library, civitai: FakeCivitai, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    run(library.targets(), cache, civitai)  # a good first run: every file has a record
    stored = {sha: records.record_path(cache, sha).read_bytes() for sha in map(library.sha, library.files)}
    civitai.requests.clear()
    fault, times = FAULTS[name]
    with Recorder() as foreign:
        civitai.fail("/api/v1/model-versions/by-hash", fault or Fault.redirect(foreign.url + "/x"), times=times)
        t = FakeTime()
        # Two days later: the hits are due again, the miss is not.
        report, _ = run(library.targets(), cache, civitai, now=T0 + 48 * HOUR, t=t)
    assert foreign.requests == []
    assert adds_up(report)
    c = counts(report)
    assert c["files"] == 4 and c["hash_cache_hits"] == 4
    assert c["requests"] == len(civitai.requests)
    miss = library.sha("unknown")
    assert records.record_path(cache, miss).read_bytes() == stored[miss]  # not due: untouched
    if name in RECOVERS:
        assert (c["found"], c["not_found"], c["errors"]) == (3, 1, 0)
        assert all(w <= 30 for w in t.sleeps)
    else:
        assert (c["found"], c["not_found"], c["errors"]) == (0, 1, 3)
        for label in ("lora_a", "lora_b", "ckpt"):  # the failure overwrote nothing
            assert records.record_path(cache, library.sha(label)).read_bytes() == stored[library.sha(label)]
        errors = [r.errors for r in report.results if r.outcome == "error"]
        assert all(len(e) == 1 and e[0].startswith("civitai: ") for e in errors)


@pytest.mark.parametrize("fault", [Fault.status_code(503), Fault.html(), Fault.malformed(), Fault.huge(400_000)],
                         ids=["503", "html", "malformed", "huge"])
def test_failed_enrichment_keeps_the_version(fault: Fault, library: Library, civitai: FakeCivitai,
                                             tmp_path: Path) -> None:
    civitai.fail("/api/v1/models/11", fault, times=99)
    report, _ = run(library.targets(), tmp_path / "cache", civitai)
    assert (counts(report)["found"], counts(report)["errors"]) == (3, 0)
    a = records.load_record(tmp_path / "cache", library.sha("lora_a"))
    assert a is not None and a["name"] == "Test Model" and a["tags"] == []  # from the version alone
    assert len(civitai.by_path("/api/v1/models/11")) == (3 if fault.kind == "status" else 1)  # once per run


def test_hugging_face_is_asked_only_for_named_repositories(tmp_path: Path, hf: FakeHuggingFace) -> None:
    root = tmp_path / "models"
    named = write_safetensors(root / "loras" / "alpha_hf.safetensors", {"a": [3, 3]},
                              {"huggingface_repo": "https://huggingface.co/someone/alpha-lora"})
    write_safetensors(root / "loras" / "gone.safetensors", {"a": [5, 5]}, {"repo_id": "someone/deleted"})
    write_safetensors(root / "loras" / "plain.safetensors", {"a": [6, 6]})
    cached = root / "loras" / "hub" / "models--someone--alpha-lora" / "snapshots" / "abc" / "w.safetensors"
    write_safetensors(cached, {"a": [7, 7]})
    sha = hashlib.sha256(named.read_bytes()).hexdigest()
    with FakeCivitai([civitai_version(sha, 11, 101)], {11: civitai_model(11, tags=["style"])}) as civitai:
        report, _ = run(targets_from_library(scan(folders_under(root))), tmp_path / "cache", civitai, hf_url=hf.url)
    assert sorted(r.path for r in hf.requests) == ["/api/models/someone/alpha-lora", "/api/models/someone/alpha-lora",
                                                   "/api/models/someone/deleted"]
    assert counts(report) == {"files": 4, "hashed": 4, "hash_cache_hits": 0, "found": 2, "not_found": 2,
                              "errors": 0, "requests": 5, "previews": 0}
    both = records.load_record(tmp_path / "cache", sha)
    assert both is not None and both["source"] == ["civitai", "huggingface"]
    assert both["name"] == "Test Model"  # CivitAI first
    assert both["tags"][:1] == ["style"] and "diffusers" in both["tags"] and "license:openrail++" not in both["tags"]
    assert both["links"]["huggingface"] == f"{hf.url}/someone/alpha-lora"
    only_hf = records.load_record(tmp_path / "cache", hashlib.sha256(cached.read_bytes()).hexdigest())
    assert only_hf is not None and only_hf["source"] == ["huggingface"]
    assert only_hf["trigger_words"] == ["sks style"] and only_hf["popularity"] == {"downloads": 4321, "likes": 87}


def test_privacy_only_hashes_and_ids_leave(library: Library, civitai: FakeCivitai, hf: FakeHuggingFace,
                                          tmp_path: Path) -> None:
    write_safetensors(library.root / "loras" / "secret_hf.safetensors", {"a": [9, 9]},
                      {"huggingface_repo": "someone/alpha-lora"})
    t = FakeTime()
    settings_rate = 50
    report, session = run(library.targets(), tmp_path / "cache", civitai, hf_url=hf.url, t=t)
    assert counts(report)["errors"] == 0
    sent = civitai.requests + hf.requests
    assert len(sent) == counts(report)["requests"] == 4
    hashes = {library.sha(k) for k in library.files} | {
        hashlib.sha256((library.root / "loras" / "secret_hf.safetensors").read_bytes()).hexdigest()}
    allowed_paths = re.compile(r"^/api/v1/model-versions/by-hash(/[0-9a-f]{64})?$|^/api/v1/models/(11|12)$"
                               r"|^/api/models/someone/alpha-lora$")
    secrets = ["secret", "private", "prompt", str(tmp_path), "alpha_hf", ".safetensors", "home", "root"]
    for request in sent:
        assert allowed_paths.match(request.path), request.path
        assert request.query == {}
        if request.body:
            body = request.json()
            assert isinstance(body, list) and set(body) <= hashes
        headers = {k.lower(): v for k, v in request.headers.items()}
        assert headers["user-agent"] == USER_AGENT
        assert "cookie" not in headers and "authorization" not in headers and "proxy-authorization" not in headers
        everything = (request.path + request.body.decode() + json.dumps(request.headers)).lower()
        for secret in secrets:
            assert secret.lower() not in everything, (secret, request)
    starts = session.log.sent_at
    assert all(b - a >= 1 / settings_rate - 1e-9 for a, b in zip(starts, starts[1:], strict=False))


def test_text_from_the_network_is_bounded_plain_text(tmp_path: Path) -> None:
    f = write_safetensors(tmp_path / "m" / "x.safetensors", {"a": [3, 5]})
    sha = hashlib.sha256(f.read_bytes()).hexdigest()
    version = civitai_version(sha, 5, 50, trained_words=["<b>ok</b>", 7, None, "x" * 1000, *[f"w{i}" for i in range(99)]])
    version["baseModel"] = {"not": "a string"}
    model = civitai_model(5, name="Evil\u202e<img src=x onerror=alert(1)>", tags=["t"] * 3 + [f"t{i}" for i in range(99)],
                          description="<script>alert('x')</script><p>Nice &amp; <i>safe</i></p>" + "long " * 2000)
    model["stats"] = {"downloadCount": "lots", "rating": 99}
    with FakeCivitai([version], {5: model}) as civitai:
        run([FetchTarget("loras", "x.safetensors", str(f))], tmp_path / "cache", civitai)
    r = records.load_record(tmp_path / "cache", sha)
    assert r is not None
    assert "<" not in r["name"] and "\u202e" not in r["name"] and r["name"].startswith("Evil")
    assert r["description"].startswith("alert('x') Nice & safe long")  # tags gone, entities decoded, as text
    assert "<script>" not in r["description"] and len(r["description"]) == records.MAX_DESCRIPTION
    assert r["base_model"] is None and r["popularity"] == {}
    assert len(r["tags"]) == records.MAX_TAGS and r["tags"][:2] == ["t", "t0"]
    assert len(r["trigger_words"]) == records.MAX_TRIGGERS and r["trigger_words"][0] == "<b>ok</b>"
    assert max(len(w) for w in r["trigger_words"]) == records.MAX_TRIGGER


def test_sidecars_are_written_on_request_and_never_over_other_files(
        library: Library, civitai: FakeCivitai, tmp_path: Path) -> None:
    foreign = library.files["lora_b"].with_name("secret_lora_beta.ig.json")
    foreign.write_text('{"mine": true}')
    run(library.targets(), tmp_path / "cache", civitai, write_sidecars=True)
    ours = library.files["lora_a"].with_name("secret_lora_alpha.ig.json")
    assert json.loads(ours.read_text()) == records.load_record(tmp_path / "cache", library.sha("lora_a"))
    assert foreign.read_text() == '{"mine": true}'
    assert not library.files["unknown"].with_name("secret_homemade.ig.json").exists()  # not found: nothing to write
    assert scan(folders_under(library.root)).find("loras", "secret_lora_alpha.safetensors") is not None


def test_offline_run_hashes_and_reads_stored_records_only(library: Library, civitai: FakeCivitai,
                                                          tmp_path: Path) -> None:
    run(library.targets(), tmp_path / "cache", civitai)
    civitai.requests.clear()
    report = fetch_metadata(library.targets(), tmp_path / "cache", None, FetchOptions(online=False))
    assert civitai.requests == []
    assert {r.outcome for r in report.results} == {"found", "not_found"}
    assert counts(report)["requests"] == 0


def test_records_that_are_missing_corrupt_or_foreign_read_as_none(tmp_path: Path) -> None:
    sha = "ab" * 32
    assert records.load_record(tmp_path, sha) is None
    assert records.load_record(tmp_path, "../../etc/passwd") is None
    with pytest.raises(ValueError):
        records.record_path(tmp_path, "../x")
    path = records.record_path(tmp_path, sha)
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    assert records.load_record(tmp_path, sha) is None
    path.write_text(json.dumps({**records.new_record({"sha256": sha}), "schema_version": 99}))
    assert records.load_record(tmp_path, sha) is None
    records.save_record(tmp_path, records.new_record({"sha256": sha, "autov2": sha[:10]}))
    loaded = records.load_record(tmp_path, sha.upper())
    assert loaded is not None and loaded["status"] == "unknown" and loaded["hashes"]["autov2"] == sha[:10]


def test_command_line_prints_counts_as_one_json_line(library: Library, civitai: FakeCivitai, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["metadata", "--models-root", str(library.root), "--cache-dir", str(tmp_path / "cache"),
            "--civitai-url", civitai.url, "--hf-url", civitai.url, "--rate", "50"]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    [line] = out.splitlines()
    summary = json.loads(line)
    assert list(summary) == KEYS
    assert summary == {"files": 4, "hashed": 4, "hash_cache_hits": 0, "found": 3, "not_found": 1, "errors": 0,
                       "requests": 3, "previews": 0}
    assert "hashing 100%" in err and "looking up 4/4 files" in err
    civitai.fail("/api/v1/model-versions/by-hash", Fault.html(), times=99)
    assert main([*argv, "--write-sidecars"]) == 0  # nothing due: no request, no failure
    assert json.loads(capsys.readouterr().out)["requests"] == 0


def test_command_line_refuses_unusable_settings_before_sending(
        library: Library, civitai: FakeCivitai, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["metadata", "--models-root", str(library.root), "--cache-dir", str(tmp_path / "cache"),
            "--civitai-url", civitai.url, "--rate", "50", "--proxy", "socks5://127.0.0.1:9050"]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and "socks5h" in err
    assert civitai.requests == []


def test_command_line_exit_status_reports_failed_lookups(library: Library, civitai: FakeCivitai, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    civitai.fail("/api/v1/model-versions/by-hash", Fault.html(), times=99)
    argv = ["metadata", "--models-root", str(library.root), "--cache-dir", str(tmp_path / "cache"),
            "--civitai-url", civitai.url, "--rate", "50"]
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert json.loads(out)["errors"] == 4 and "not JSON" in err
