"""What the library lacks for a prompt, and the online search for it: only concept names leave the machine."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes.civitai_server import FakeCivitai, civitai_model, version_for_file
from fakes.huggingface_server import FakeHuggingFace, hf_model

from services.library.scan import Library, folders_under, scan
from services.online.session import HardenedSession, OnlineSettings
from services.online.suggest import search_candidates
from services.recommend.analysis import analyze_keywords
from services.recommend.missing import MissingConcept, explain_missing, missing_concepts

PROMPT = ("an oil painting of a knight in plate armor, pixel art, kimono, for my neighbour Bartholomew "
          "<lora:secret_project_x:0.5>")
PRIVATE = ("bartholomew", "neighbour", "secret", "project", "knight", "oil painting of")


@pytest.fixture
def library(models_root: Path) -> Library:
    return scan(folders_under(models_root))


def test_missing_concepts_are_the_prompts_concepts_no_local_model_offers(library: Library) -> None:
    analysis = analyze_keywords(PROMPT)
    missing = missing_concepts(library, analysis, "sd15", "SD 1.5")
    assert [(m.concept, m.kind) for m in missing] == [
        ("artistic", "checkpoints"), ("plate armor", "loras"), ("pixel art", "loras"), ("kimono", "loras")]
    # The SD 1.5 oil-painting LoRA covers its concept for SD 1.5, not for SDXL, and says where it is.
    xl = {m.concept: m for m in missing_concepts(library, analysis, "sdxl", "SDXL 1.0")}
    assert xl["oil painting"].elsewhere == ["SD 1.5"]
    assert xl["oil painting"].explain() == "No local LoRA for 'oil painting' fits SDXL 1.0 (1 made for SD 1.5 do)."
    # A checkpoint that itself names the concept needs no LoRA for it.
    assert "pixel art" not in {m.concept for m in missing_concepts(
        _with_checkpoint(library, "pixelWorld_v1.safetensors", ["pixel art"]), analysis, "sd15",
        checkpoint="pixelWorld_v1.safetensors")}


def _with_checkpoint(library: Library, name: str, concepts: list[str]) -> Library:
    base = library.of_kind("checkpoints")[0]
    entry = type(base).from_dict({**base.to_dict(), "name": name, "concepts": concepts})
    return Library([*library.entries, entry])


def test_no_missing_lines_when_everything_is_covered(library: Library) -> None:
    analysis = analyze_keywords("photo of a cat")
    assert missing_concepts(library, analysis, "sd15") == []
    assert explain_missing([]) == []


def test_explanation_points_to_the_online_search_that_exists() -> None:
    missing = [MissingConcept("pixel art", "loras", "sd15", "SD 1.5")]
    lines = explain_missing(missing)
    assert lines[0] == "No local LoRA for 'pixel art' fits SD 1.5."
    assert "Model Library tab's Find models online" in lines[1]
    assert "only the concept, the kind and the base model are sent" in lines[1]
    assert explain_missing(missing, online_enabled=True) == lines[:1]


def sd15_repo(repo: str, tags: list[str]) -> dict[str, Any]:
    info = hf_model(repo, tags=["lora", "text-to-image", *tags, "base_model:runwayml/stable-diffusion-v1-5"],
                    base_model="runwayml/stable-diffusion-v1-5")
    info["downloads"] = 900
    return info


@pytest.fixture
def sites(tmp_path: Path) -> Iterator[tuple[FakeCivitai, FakeHuggingFace]]:
    popular = version_for_file(b"p" * 150_000, 1, 11, file_name="pixelArtStyle.safetensors", model_name="Pixel Art Style",
                               trained_words=["pixel art"])
    lesser = version_for_file(b"l" * 140_000, 2, 21, file_name="retroSprites.safetensors", model_name="Retro Sprites")
    pickled = version_for_file(b"k" * 100_000, 3, 31, file_name="pixel.ckpt", model_name="Pixel Pickle")
    xl_only = version_for_file(b"x" * 100_000, 4, 41, file_name="kimonoXL.safetensors", model_name="Kimono XL",
                               base_model="SDXL 1.0")
    models = {1: civitai_model(1, "Pixel Art Style", tags=["pixel art", "style"]),
              2: civitai_model(2, "Retro Sprites", tags=["pixel art"]),
              3: civitai_model(3, "Pixel Pickle", tags=["pixel art"]),
              4: civitai_model(4, "Kimono XL", tags=["kimono", "clothing"])}
    models[1]["stats"]["downloadCount"] = 250_000
    models[2]["stats"]["downloadCount"] = 90
    repos = {"someone/pixel-art-lora": sd15_repo("someone/pixel-art-lora", ["pixel art"]),
             "other/kimono-xl": hf_model("other/kimono-xl", tags=["lora", "kimono",
                                                                  "base_model:stabilityai/stable-diffusion-xl-base-1.0"])}
    files = {"someone/pixel-art-lora": {"pixel-art.safetensors": b"h" * 80_000, "README.md": b"card"}}
    with FakeCivitai([popular, lesser, pickled, xl_only], models) as civitai, \
            FakeHuggingFace(repos, files=files) as hf:
        yield civitai, hf


def session(civitai: FakeCivitai, hf: FakeHuggingFace) -> HardenedSession:
    return HardenedSession(OnlineSettings(civitai_url=civitai.url, hf_url=hf.url, rate_per_second=1000.0))


def test_searches_carry_only_concept_names(library: Library, sites: tuple[FakeCivitai, FakeHuggingFace]) -> None:
    civitai, hf = sites
    missing = missing_concepts(library, analyze_keywords(PROMPT), "sd15", "SD 1.5")
    with session(civitai, hf) as s:
        suggestions = [search_candidates(m.concept, m.kind, m.family, m.base_model, s) for m in missing]
    sent_civitai = [r.query for r in civitai.requests if r.path == "/api/v1/models"]
    sent_hf = [r.query for r in hf.requests if r.path == "/api/models"]
    assert [q["query"] for q in sent_civitai] == [["artistic"], ["plate armor"], ["pixel art"], ["kimono"]]
    assert all(set(q) == {"query", "types", "baseModels", "sort", "limit"} for q in sent_civitai)
    assert [q["types"] for q in sent_civitai] == [["Checkpoint"], ["LORA"], ["LORA"], ["LORA"]]
    assert all(q["baseModels"] == ["SD 1.5"] and q["sort"] == ["Highest Rated"] for q in sent_civitai)
    assert [(q["search"], q["filter"]) for q in sent_hf] == [
        (["artistic"], ["text-to-image"]), (["plate armor"], ["lora"]), (["pixel art"], ["lora"]), (["kimono"], ["lora"])]
    # Besides the searches, only a repository the search itself returned was asked about.
    assert {r.path for r in hf.requests} - {"/api/models"} == {"/api/models/someone/pixel-art-lora"}
    everything = json.dumps([(r.path, r.query, r.body.decode()) for r in civitai.requests + hf.requests]).lower()
    assert not any(word in everything for word in PRIVATE)
    by_concept = {s.concept: s for s in suggestions}
    assert by_concept["kimono"].candidates == []  # made for SDXL only: not offered for SD 1.5


def test_candidates_are_ranked_and_described(sites: tuple[FakeCivitai, FakeHuggingFace]) -> None:
    civitai, hf = sites
    with session(civitai, hf) as s:
        suggestion = search_candidates("pixel art", "loras", "sd15", "SD 1.5", s, limit=5)
    names = [c.name for c in suggestion.candidates]
    assert names == ["Pixel Art Style", "someone/pixel-art-lora", "Retro Sprites", "Pixel Pickle"]
    best = suggestion.candidates[0]
    assert best.target == {"source": "civitai", "civitai_version": 11}
    assert best.page == f"{civitai.url}/models/1?modelVersionId=11" and best.base_model == "SD 1.5"
    assert best.size and abs(best.size - 150_000) < 100  # CivitAI publishes KB with one decimal
    assert best.safe_format and best.licence == {
        "commercial_use": ["Image"], "derivatives": True, "credit_required": False}
    assert "names the concept" in best.why and "250,000 downloads" in best.why
    hf_candidate = suggestion.candidates[1]
    assert hf_candidate.target == {"source": "huggingface", "hf_repo": "someone/pixel-art-lora",
                                   "hf_file": "pixel-art.safetensors"}
    assert hf_candidate.licence == {"license": "openrail++"} and hf_candidate.size == 80_000
    assert not suggestion.candidates[-1].safe_format  # a pickle file ranks last and says so
    lines = suggestion.explain()
    assert lines[0] == "Online candidates for 'pixel art' (LoRA, SD 1.5):"
    assert "Download Model: civitai_version 11" in lines[1] and "needs allow_pickle" in lines[-1]


def test_only_vocabulary_words_can_be_searched(sites: tuple[FakeCivitai, FakeHuggingFace]) -> None:
    civitai, hf = sites
    with session(civitai, hf) as s, pytest.raises(ValueError):
        search_candidates("my neighbour bartholomew", "loras", "sd15", None, s)
    assert civitai.requests == [] and hf.requests == []


def test_a_failing_site_is_reported_not_raised(sites: tuple[FakeCivitai, FakeHuggingFace]) -> None:
    from fakes.loopback import Fault

    civitai, hf = sites
    civitai.fail("/api/v1/models", Fault.html())
    with session(civitai, hf) as s:
        suggestion = search_candidates("pixel art", "loras", "sd15", "SD 1.5", s)
    assert [c.site for c in suggestion.candidates] == ["huggingface"]
    assert suggestion.errors and suggestion.errors[0].startswith("CivitAI: ")
