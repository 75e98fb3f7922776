"""A first scan of a library large enough for worker processes (services/library/workers.py), inside a
real ComfyUI: the workers start from ComfyUI's Python and the pack's folder, and what they describe is
what this process describes."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from comfy_server import ComfyServer
from model_files import SD15_LORA, write_safetensors

from services.library.describe import describe
from services.library.workers import PARALLEL_FROM

LORAS = PARALLEL_FROM + 50
SUBJECTS = ("pixel art", "watercolor", "kimono", "dragon", "neon city")


@pytest.fixture(scope="module")
def user_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("many_loras")
    for i in range(LORAS):
        subject = SUBJECTS[i % len(SUBJECTS)]
        path = root / "loras" / subject.replace(" ", "_") / f"{subject.replace(' ', '')}_{i}.safetensors"
        write_safetensors(path, SD15_LORA, {"ss_output_name": path.stem} if i % 2 else None)
        if i % 3 == 0:
            path.with_suffix(".civitai.info").write_text(json.dumps(
                {"baseModel": "SD 1.5", "trainedWords": [f"{subject} {i}"], "model": {"name": subject, "tags": [subject]}}))
    return root


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory, tiny_models: Path, user_models: Path) -> Iterator[ComfyServer]:
    base = tmp_path_factory.mktemp("comfy_big")
    with ComfyServer(base, models=tiny_models, extra_models_root=user_models) as server:
        yield server
    shutil.rmtree(base, ignore_errors=True)


def test_first_scan_of_a_large_library_in_workers_matches_describing_here(big: ComfyServer, user_models: Path) -> None:
    listed = {m["name"]: m for m in big.get("/intelligent-generation/library", timeout=300)["models"]
              if m["kind"] == "loras"}
    files = sorted(user_models.glob("loras/*/*.safetensors"))
    assert len(files) == LORAS
    for path in files:
        name = path.relative_to(user_models / "loras").as_posix()
        here = describe("loras", path, name, frozenset(p.name for p in path.parent.glob(path.stem + ".*")
                                                       if p.suffix != ".safetensors"), path.stat().st_size)
        got = listed[name]
        assert (got["base_model"], got["trigger_words"], got["tags"], got["title"]) == \
            (here.base_model, here.trigger_words, here.tags, here.title), name
    log = big.log_tail(200_000)
    assert "describe worker" not in log, "the workers ran, none failed"
