"""Update checks against the loopback CivitAI: newer versions for the same base model only, model ids only."""

from __future__ import annotations

import json
from pathlib import Path

from fakes.civitai_server import FakeCivitai, civitai_model, civitai_version
from model_files import SD15_LORA, write_safetensors

from services.__main__ import main
from services.library.entries import ModelEntry
from services.library.scan import folders_under, forget_scans, scan
from services.online.lookups import FetchOptions, fetch_metadata, targets_from_library
from services.online.session import HardenedSession, OnlineSettings
from services.online.updates import Known, check_updates, judge, known_on_civitai


def _settings(civitai: FakeCivitai) -> OnlineSettings:
    return OnlineSettings(civitai_url=civitai.url, hf_url="https://hf.invalid", rate_per_second=100, retries=1)


def _known(model_id: int, version_id: int, base: str = "SD 1.5") -> Known:
    entry = ModelEntry(kind="loras", name=f"m{model_id}.safetensors", path=f"/x/m{model_id}.safetensors", size=1)
    return Known(entry, model_id, version_id, base)


def _model(model_id: int, versions: list[tuple[int, str]]) -> dict[str, object]:
    """A model as /models?ids= lists it, its versions newest first."""
    return {**civitai_model(model_id), "modelVersions": [
        {"id": v, "name": f"v{v}", "baseModel": base, "publishedAt": "2025-05-01T00:00:00.000Z"}
        for v, base in versions]}


def test_only_a_newer_version_for_the_same_base_model_is_an_update() -> None:
    model = _model(11, [(104, "SDXL 1.0"), (103, "SD 1.5"), (101, "SD 1.5"), (90, "SD 1.5")])
    assert [n.version_id for n in judge(_known(11, 101), model).newer] == [103]
    assert judge(_known(11, 103), model).newer == ()  # the newest SD 1.5 one: up to date
    assert "newer version for the same base model" in judge(_known(11, 101), model).describe()
    # The file's own version withdrawn: a higher id is a later version.
    assert [n.version_id for n in judge(_known(11, 100), _model(11, [(104, "SDXL 1.0"), (103, "SD 1.5")])).newer] \
        == [103]
    assert judge(_known(11, 101), None).found is False


def test_a_library_is_checked_from_its_records_with_model_ids_only(tmp_path: Path) -> None:
    root = tmp_path / "private_models"
    lora = write_safetensors(root / "loras" / "secret_alpha.safetensors", SD15_LORA)
    import hashlib

    sha = hashlib.sha256(lora.read_bytes()).hexdigest()
    versions = [civitai_version("0" * 64, 11, 104, base_model="SDXL 1.0"),
                civitai_version("1" * 64, 11, 103, name="v3.0"),
                civitai_version(sha, 11, 101)]
    cache = tmp_path / "cache"
    with FakeCivitai(versions, {11: civitai_model(11, name="Alpha")}) as civitai:
        settings = _settings(civitai)
        library = scan(folders_under(root), cache)
        with HardenedSession(settings) as session:
            fetch_metadata(targets_from_library(library), cache, settings, FetchOptions(huggingface=False),
                           session=session)
        forget_scans()
        known = known_on_civitai(scan(folders_under(root), cache), cache)
        assert [(k.model_id, k.version_id) for k in known] == [(11, 101)]
        civitai.requests.clear()
        [check] = check_updates(known, settings)
        assert [n.version_id for n in check.newer] == [103]
        [asked] = civitai.requests
        assert asked.path == "/api/v1/models" and asked.query["ids"] == ["11"]
        sent = json.dumps([asked.path, asked.query])
        assert "secret" not in sent and sha not in sent  # no file name, no hash: the id CivitAI gave us
        civitai.requests.clear()
        assert main(["updates", "--models-root", str(root), "--cache-dir", str(cache),
                     "--civitai-url", civitai.url, "--rate", "100"]) == 0


def test_a_hundred_models_go_in_one_request(tmp_path: Path) -> None:
    versions = [civitai_version(f"{i * 10 + k:064x}", i, i * 10 + k) for i in range(1, 151) for k in (1, 0)]
    with FakeCivitai(versions, {i: civitai_model(i) for i in range(1, 151)}) as civitai:
        checks = check_updates([_known(i, i * 10) for i in range(1, 151)], _settings(civitai))
        assert len(civitai.requests) == 2
    assert all([n.version_id for n in c.newer] == [c.known.model_id * 10 + 1] for c in checks)


def test_a_search_by_name_plans_the_stem_type_and_base_only() -> None:
    from services.online.name_lookup import planned, stem_of

    entry = ModelEntry(kind="loras", name="styles/pixelArt_v2.safetensors", path="/private/x.safetensors", size=1,
                       base_model="Pony", family="sdxl")
    plan = planned(entry, OnlineSettings())
    assert stem_of(entry) == "pixelArt_v2"
    assert plan.sent == {"query": "pixelArt_v2", "types": "LORA", "baseModels": "Pony"}
    assert "private" not in json.dumps(plan.to_dict())
