"""Library statistics: what the library holds, how much is known of it, the cache, and the machine.

Read-only: it never hashes a file, never goes online and writes nothing of its own (the hash cache is
opened read-only; hashes come only from it, records only from the cache folder). Counts are by kind;
"never looked up" means no model record was found for the file's cached SHA-256, which includes every
file never hashed (a lookup needs the hash). Duplicates are counted as library/duplicates.py finds them without
hashing: files of one size are compared by their first and last 64 KiB. Neither paths nor file names are
reported.

System resources come from psutil (CPU, RAM) and pynvml (NVIDIA GPUs), both imported only when
asked for: without them the answer says why instead of failing.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections import Counter
from pathlib import Path
from typing import Any

from .duplicates import find_copies, summary
from .entries import KINDS
from .hashing import read_cache, still_current
from .model_records import load_record
from .scan import Library

log = logging.getLogger(__name__)

CIVITAI_SIDECARS = ("civitai_helper",)  # a sidecar that is CivitAI's own answer for the file
UNKNOWN_BASE = "unknown"


def _coverage() -> dict[str, Any]:
    return {"total": 0, "with_trigger_words": 0, "trigger_words_guessed": 0, "with_local_metadata": 0,
            "with_civitai_metadata": 0, "with_huggingface_metadata": 0, "hashed": 0, "looked_up": 0,
            "found_online": 0, "not_found_online": 0, "never_looked_up": 0, "with_problems": 0,
            "local_sources": {}}


def library_stats(library: Library, cache_dir: Path | None) -> dict[str, Any]:
    """Counts by kind and base model, and metadata coverage per kind ("all" sums them)."""
    hashes = read_cache(cache_dir)
    by_base: dict[str, Counter[str]] = {kind: Counter() for kind in KINDS}
    sizes: Counter[str] = Counter()
    coverage = {kind: _coverage() for kind in (*KINDS, "all")}
    for entry in library.entries:
        by_base.setdefault(entry.kind, Counter())[entry.base_model or UNKNOWN_BASE] += 1
        sizes[entry.kind] += entry.size
        sha = still_current(entry.path, hashes.get(entry.path))
        record = load_record(cache_dir, sha) if sha and cache_dir else None
        status = record.get("status", "unknown") if record else "unknown"
        sites = (record.get("source") or []) if record else []
        facts = {
            "total": True,
            "with_trigger_words": bool(entry.trigger_words) and not entry.trigger_guessed,
            "trigger_words_guessed": bool(entry.trigger_words) and entry.trigger_guessed,
            "with_local_metadata": bool(entry.sources),
            "with_civitai_metadata": "civitai" in sites or any(s in CIVITAI_SIDECARS for s in entry.sources),
            "with_huggingface_metadata": "huggingface" in sites,
            "hashed": sha is not None,
            "looked_up": status in ("found", "not_found"),
            "found_online": status == "found",
            "not_found_online": status == "not_found",
            "never_looked_up": status not in ("found", "not_found"),
            "with_problems": bool(entry.problems),
        }
        for kind in (entry.kind, "all"):
            counts = coverage.setdefault(kind, _coverage())
            for key, holds in facts.items():
                counts[key] += int(holds)
            for source in entry.sources:
                counts["local_sources"][source] = counts["local_sources"].get(source, 0) + 1
    return {
        "duplicates": summary(find_copies(library.entries, hashes)),
        "models": {
            "total": len(library.entries),
            "by_kind": {kind: coverage[kind]["total"] for kind in coverage if kind != "all"},
            "by_base_model": {kind: dict(sorted(counts.items())) for kind, counts in by_base.items()},
            "bytes_by_kind": {kind: sizes[kind] for kind in by_base},
        },
        "metadata": coverage,
    }


def cache_stats(cache_dir: Path | None) -> dict[str, Any]:
    """Bytes and files in the cache folder, per top-level item (a database counts with its -wal and -shm)."""
    parts: Counter[str] = Counter()
    files = 0
    root = Path(cache_dir) if cache_dir else None
    if root is not None and root.is_dir():
        for dirpath, _dirs, names in os.walk(root):
            for name in names:
                path = Path(dirpath, name)
                try:
                    size = path.lstat().st_size
                except OSError:
                    continue
                top = path.relative_to(root).parts[0]
                for suffix in ("-wal", "-shm", "-journal"):
                    top = top.removesuffix(suffix)
                parts[top] += size
                files += 1
    return {"bytes": sum(parts.values()), "files": files, "parts": dict(sorted(parts.items()))}


def _module(name: str) -> Any:
    return importlib.import_module(name)


def cpu_memory() -> dict[str, Any]:
    """CPU and RAM through psutil; each {"available": False, "reason": ...} without it."""
    try:
        psutil = _module("psutil")
    except ImportError:
        missing = {"available": False, "reason": "psutil not installed"}
        return {"cpu": missing, "memory": missing}
    memory = psutil.virtual_memory()
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):  # Windows
        load = None
    return {
        "cpu": {"available": True, "logical_cores": psutil.cpu_count(), "physical_cores": psutil.cpu_count(logical=False),
                "percent": psutil.cpu_percent(interval=0.1), "load_average": load},
        "memory": {"available": True, "total_bytes": int(memory.total), "available_bytes": int(memory.available),
                   "used_percent": float(memory.percent)},
    }


def model_memory_budget() -> tuple[float | None, str]:
    """The memory a checkpoint must fit into, outside ComfyUI, in GiB, and where it was read: the first
    NVIDIA GPU's (pynvml, ComfyUI's default device), else the system's (psutil: the CPU, or a GPU that
    shares it); None when neither can be read."""
    gpu = gpus()
    if gpu["devices"]:
        first = gpu["devices"][0]
        return first["memory_total_bytes"] / 1024**3, f"{first['name']} (pynvml)"
    try:
        total = _module("psutil").virtual_memory().total
    except ImportError:
        return None, f"{gpu['reason']}; psutil not installed"
    return total / 1024**3, f"system memory (psutil; {gpu['reason']})"


def gpus() -> dict[str, Any]:
    """NVIDIA GPUs through pynvml: memory, temperature, utilisation; {"available": False, "reason": ...}
    when pynvml is not installed or finds no NVIDIA GPU (its driver)."""
    try:
        nvml = _module("pynvml")
    except ImportError:
        return {"available": False, "reason": "pynvml not installed (pip install nvidia-ml-py)", "devices": []}
    try:
        nvml.nvmlInit()
    except Exception as exc:  # pynvml.NVMLError and its many subclasses: no driver, no device
        return {"available": False, "reason": f"no NVIDIA GPU ({exc})", "devices": []}
    try:
        devices = [_gpu(nvml, i) for i in range(nvml.nvmlDeviceGetCount())]
    except Exception as exc:
        return {"available": False, "reason": f"NVIDIA GPU not readable ({exc})", "devices": []}
    finally:
        try:
            nvml.nvmlShutdown()
        except Exception:  # nothing to release
            pass
    return {"available": bool(devices), "reason": None if devices else "no NVIDIA GPU", "devices": devices}


def _gpu(nvml: Any, index: int) -> dict[str, Any]:
    handle = nvml.nvmlDeviceGetHandleByIndex(index)
    name = nvml.nvmlDeviceGetName(handle)
    memory = nvml.nvmlDeviceGetMemoryInfo(handle)

    def optional(read: Any) -> Any:
        try:
            return read()
        except Exception:  # e.g. NVMLError_NotSupported on some boards
            return None

    return {
        "index": index,
        "name": name.decode() if isinstance(name, bytes) else str(name),
        "memory_total_bytes": int(memory.total),
        "memory_used_bytes": int(memory.used),
        "memory_free_bytes": int(memory.free),
        "temperature_c": optional(lambda: int(nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU))),
        "utilization_percent": optional(lambda: int(nvml.nvmlDeviceGetUtilizationRates(handle).gpu)),
    }


def collect_stats(library: Library, cache_dir: Path | None, system: bool = True) -> dict[str, Any]:
    """Everything the command prints and the route answers."""
    stats = library_stats(library, cache_dir)
    stats["cache"] = cache_stats(cache_dir)
    if system:
        stats["system"] = {**cpu_memory(), "gpu": gpus()}
    return stats
