"""Library statistics: counts, metadata coverage, cache size and system resources, and the `stats` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any

import pytest

from services.library import stats
from services.library.hashing import HashCache
from services.library.model_records import apply_lookup, new_record, save_record
from services.library.scan import folders_under, scan

ROOT = Path(__file__).resolve().parents[2]


def looked_up(cache: Path, path: Path, site: str | None) -> None:
    """Hash a file into the cache and store a record: found on `site`, or not found anywhere (None)."""
    hashes = HashCache(cache).hashes(path)
    record = new_record({"sha256": hashes.sha256, "autov2": hashes.autov2, "autov3": hashes.autov3})
    record = apply_lookup(record, site or "civitai", site is not None, {"name": "x"} if site else None,
                          time.time(), 86400)
    save_record(cache, record)


def test_counts_by_kind_and_base_model(models_root: Path, tmp_path: Path) -> None:
    found = stats.library_stats(scan(folders_under(models_root)), tmp_path / "cache")
    models = found["models"]
    assert models["total"] == 6
    assert models["by_kind"] == {"checkpoints": 3, "loras": 3, "vae": 0}
    assert models["by_base_model"] == {"checkpoints": {"SD 1.5": 2, "SDXL 1.0": 1},
                                       "loras": {"SD 1.5": 2, "SDXL 1.0": 1}, "vae": {}}
    lora_bytes = sum(p.stat().st_size for p in (models_root / "loras").glob("*.safetensors"))
    assert models["bytes_by_kind"]["loras"] == lora_bytes


def test_metadata_coverage_counts_lookups_from_the_cache_only(models_root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    looked_up(cache, models_root / "loras" / "catEars.safetensors", "civitai")
    looked_up(cache, models_root / "loras" / "oilPaint.safetensors", None)
    looked_up(cache, models_root / "checkpoints" / "xl" / "juggerPhoto_xl.safetensors", "huggingface")
    library = scan(folders_under(models_root))
    coverage = stats.library_stats(library, cache)["metadata"]
    loras, everything = coverage["loras"], coverage["all"]
    assert (loras["hashed"], loras["looked_up"], loras["found_online"], loras["not_found_online"],
            loras["never_looked_up"]) == (2, 2, 1, 1, 1)
    # catEars: our record and its .civitai.info; catEarsXL: its .civitai.info only; oilPaint: A1111's sidecar.
    assert loras["with_civitai_metadata"] == 2
    assert loras["with_trigger_words"] == 3 and loras["trigger_words_guessed"] == 0
    assert loras["local_sources"] == {"civitai_helper": 2, "a1111": 1, "embedded": 1}
    assert coverage["checkpoints"]["with_huggingface_metadata"] == 1
    assert coverage["checkpoints"]["never_looked_up"] == 2
    assert everything["total"] == 6 and everything["looked_up"] == 3 and everything["never_looked_up"] == 3
    # A file changed since it was hashed has no known hash, so no known lookup either.
    os.utime(models_root / "loras" / "catEars.safetensors", ns=(1, 1))
    again = stats.library_stats(library, cache)["metadata"]["loras"]
    assert (again["hashed"], again["found_online"], again["never_looked_up"]) == (1, 0, 2)


def test_statistics_write_nothing(models_root: Path, tmp_path: Path) -> None:
    library = scan(folders_under(models_root))
    empty = tmp_path / "empty"
    empty.mkdir()
    found = stats.collect_stats(library, empty, system=False)
    assert list(empty.iterdir()) == [] and found["metadata"]["all"]["hashed"] == 0
    cache = tmp_path / "cache"
    looked_up(cache, models_root / "loras" / "catEars.safetensors", "civitai")
    before = {p: p.stat().st_mtime_ns for p in cache.rglob("*")}
    stats.collect_stats(library, cache, system=False)
    assert {p: p.stat().st_mtime_ns for p in cache.rglob("*")} == before


def test_damaged_hash_cache_is_reported_as_unhashed(models_root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "hashes.sqlite").write_bytes(b"not a database")
    coverage = stats.library_stats(scan(folders_under(models_root)), cache)["metadata"]["all"]
    assert coverage["hashed"] == 0 and coverage["never_looked_up"] == 6


def test_cache_size_per_part(tmp_path: Path) -> None:
    (tmp_path / "model_records").mkdir()
    (tmp_path / "model_records" / "a.json").write_bytes(b"x" * 100)
    (tmp_path / "model_records" / "b.json").write_bytes(b"x" * 50)
    (tmp_path / "hashes.sqlite").write_bytes(b"x" * 1000)
    (tmp_path / "hashes.sqlite-wal").write_bytes(b"x" * 24)
    assert stats.cache_stats(tmp_path) == {"bytes": 1174, "files": 4,
                                           "parts": {"hashes.sqlite": 1024, "model_records": 150}}
    assert stats.cache_stats(tmp_path / "missing") == {"bytes": 0, "files": 0, "parts": {}}


def test_cpu_and_memory_through_psutil(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("psutil")
    found = stats.cpu_memory()
    assert found["cpu"]["logical_cores"] >= 1 and 0 <= found["cpu"]["percent"] <= 100 * found["cpu"]["logical_cores"]
    assert 0 < found["memory"]["available_bytes"] <= found["memory"]["total_bytes"]
    monkeypatch.setitem(sys.modules, "psutil", None)  # import now raises ImportError
    assert stats.cpu_memory()["memory"] == {"available": False, "reason": "psutil not installed"}


class FakeNvml(types.ModuleType):
    """pynvml (nvidia-ml-py) as far as stats uses it: one 80 GiB GPU whose temperature is not readable."""

    NVML_TEMPERATURE_GPU = 0

    def __init__(self, init_error: Exception | None = None) -> None:
        super().__init__("pynvml")
        self.init_error = init_error
        self.shut_down = False

    def nvmlInit(self) -> None:
        if self.init_error:
            raise self.init_error

    def nvmlShutdown(self) -> None:
        self.shut_down = True

    def nvmlDeviceGetCount(self) -> int:
        return 1

    def nvmlDeviceGetHandleByIndex(self, index: int) -> str:
        return f"gpu{index}"

    def nvmlDeviceGetName(self, handle: str) -> bytes:
        return b"NVIDIA H100 80GB HBM3"

    def nvmlDeviceGetMemoryInfo(self, handle: str) -> Any:
        return types.SimpleNamespace(total=80 * 2**30, used=2**30, free=79 * 2**30)

    def nvmlDeviceGetTemperature(self, handle: str, sensor: int) -> int:
        raise RuntimeError("Not Supported")

    def nvmlDeviceGetUtilizationRates(self, handle: str) -> Any:
        return types.SimpleNamespace(gpu=37, memory=5)


def test_gpu_through_pynvml(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeNvml()
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    found = stats.gpus()
    assert found["available"] is True and fake.shut_down
    assert found["devices"] == [{"index": 0, "name": "NVIDIA H100 80GB HBM3", "memory_total_bytes": 80 * 2**30,
                                 "memory_used_bytes": 2**30, "memory_free_bytes": 79 * 2**30,
                                 "temperature_c": None, "utilization_percent": 37}]


def test_no_gpu_or_no_pynvml_is_said_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", FakeNvml(RuntimeError("Driver Not Loaded")))
    assert stats.gpus() == {"available": False, "reason": "no NVIDIA GPU (Driver Not Loaded)", "devices": []}
    monkeypatch.setitem(sys.modules, "pynvml", None)
    missing = stats.gpus()
    assert missing["available"] is False and missing["reason"].startswith("pynvml not installed")


def test_stats_command_prints_one_json_document(models_root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    looked_up(cache, models_root / "loras" / "catEars.safetensors", "civitai")
    out = subprocess.run([sys.executable, "-m", "services", "stats", "--models-root", str(models_root),
                          "--cache-dir", str(cache)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    assert answer["models"]["by_kind"] == {"checkpoints": 3, "loras": 3, "vae": 0}
    assert answer["metadata"]["loras"]["found_online"] == 1
    assert answer["cache"]["parts"]["model_records"] > 0 and "hashes.sqlite" in answer["cache"]["parts"]
    assert set(answer["system"]) == {"cpu", "memory", "gpu"}
    assert answer["system"]["gpu"]["available"] or answer["system"]["gpu"]["reason"]
    assert str(tmp_path) not in out.stdout  # no paths
    quiet = subprocess.run([sys.executable, "-m", "services", "stats", "--models-root", str(models_root),
                            "--cache-dir", str(cache), "--no-system"], cwd=ROOT, capture_output=True, text=True,
                           timeout=120)
    assert "system" not in json.loads(quiet.stdout)


def test_memory_budget_is_the_gpus_else_the_systems(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", FakeNvml())
    assert stats.model_memory_budget() == (80.0, "NVIDIA H100 80GB HBM3 (pynvml)")
    monkeypatch.setitem(sys.modules, "pynvml", None)
    monkeypatch.setitem(sys.modules, "psutil", types.SimpleNamespace(
        virtual_memory=lambda: types.SimpleNamespace(total=16 * 2**30)))
    budget, source = stats.model_memory_budget()
    assert budget == 16.0 and source.startswith("system memory (psutil; pynvml not installed")
    monkeypatch.setitem(sys.modules, "psutil", None)
    assert stats.model_memory_budget()[0] is None
