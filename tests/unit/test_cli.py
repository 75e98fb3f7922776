"""The command line, as scripts and the evaluation call it: `python -m services ...` from the repository root."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "services", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_help_needs_only_the_standard_library() -> None:
    probe = ("import sys, runpy; sys.argv = ['services', '--help']\n"
             "try:\n    runpy.run_module('services', run_name='__main__')\nexcept SystemExit:\n    pass\n"
             "heavy = {'torch', 'PIL', 'requests', 'ollama', 'httpx', 'numpy', 'comfy', 'folder_paths'}\n"
             "print(sorted(heavy & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().endswith("[]"), out.stdout + out.stderr


def test_recommending_loads_nothing_that_goes_online(models_root: Path, tmp_path: Path) -> None:
    """The recommend path stays light: the download, lookup and online modules load only when asked for."""
    probe = ("import sys\nfrom services.__main__ import main\n"
             f"main(['recommend', '--models-root', {str(models_root)!r}, '--cache-dir', {str(tmp_path)!r}, "
             "'--no-ollama', '--prompt', 'anime girl with cat ears'])\n"
             "online = {'services.online.download', 'services.online.download_target', 'services.online.licences', "
             "'services.online.session', 'services.online.suggest', 'services.online.civitai', "
             "'services.online.huggingface', 'services.online.lookups', 'requests', 'ollama'}\n"
             "print(sorted(online & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().endswith("[]"), out.stdout + out.stderr


def test_recommend_one_prompt_and_a_file(models_root: Path, tmp_path: Path) -> None:
    single = run("recommend", "--models-root", str(models_root), "--prompt", "anime girl with cat ears",
                 "--no-ollama", "--cache-dir", str(tmp_path / "c"))
    assert single.returncode == 0, single.stderr
    (answer,) = [json.loads(line) for line in single.stdout.splitlines()]
    assert set(answer) >= {"analysis", "checkpoint", "vae", "loras", "positive_prompt", "negative_prompt",
                           "params", "explanation"}
    assert answer["analysis"]["source"] == "fallback"
    assert answer["checkpoint"]["file"].startswith("checkpoints/") and "score" in answer["checkpoint"]
    assert answer["loras"][0]["file"] == "loras/catEars.safetensors"
    prompts = tmp_path / "in.jsonl"
    prompts.write_text("\n".join(json.dumps({"id": f"p{i}", "prompt": p, "negative_prompt": ""})
                                 for i, p in enumerate(["a cat", "oil painting of a harbour"])))
    batch = run("recommend", "--models-root", str(models_root), "--prompts-file", str(prompts), "--no-ollama",
                "--cache-dir", str(tmp_path / "c"))
    assert [json.loads(line)["id"] for line in batch.stdout.splitlines()] == ["p0", "p1"]


def test_empty_library_is_an_error_answer(tmp_path: Path) -> None:
    out = run("recommend", "--models-root", str(tmp_path), "--prompt", "a cat", "--no-ollama",
              "--cache-dir", str(tmp_path / "c"))
    assert out.returncode == 1 and "No usable checkpoint" in json.loads(out.stdout)["error"]


def test_recommend_keeps_to_the_gpu_it_finds(models_root: Path, tmp_path: Path) -> None:
    """No --vram-gb: the budget is the NVIDIA GPU's memory through pynvml (here a 2 GiB card, faked as a
    module on the path), so the SDXL checkpoint (about 2.5 GB with working memory) is left out."""
    fake = tmp_path / "fake_modules"
    fake.mkdir()
    (fake / "pynvml.py").write_text(
        "from types import SimpleNamespace\n"
        "def nvmlInit(): pass\ndef nvmlShutdown(): pass\ndef nvmlDeviceGetCount(): return 1\n"
        "def nvmlDeviceGetHandleByIndex(i): return i\ndef nvmlDeviceGetName(h): return 'Tiny GPU'\n"
        "def nvmlDeviceGetMemoryInfo(h): return SimpleNamespace(total=2 * 2**30, used=0, free=2 * 2**30)\n"
        "NVML_TEMPERATURE_GPU = 0\n")
    env = {**os.environ, "PYTHONPATH": str(fake)}
    args = [sys.executable, "-m", "services", "recommend", "--models-root", str(models_root), "--prompt",
            "raw photo of a man", "--no-ollama", "--cache-dir", str(tmp_path / "c")]
    found = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert "memory budget: 2.0 GB from Tiny GPU (pynvml)" in found.stderr
    answer = json.loads(found.stdout)
    assert "too big for 2 GB" in answer["explanation"] and answer["checkpoint"]["base_model"] == "SD 1.5"
    unlimited = subprocess.run([*args, "--vram-gb", "0"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                               env=env)
    assert "memory budget" not in unlimited.stderr and "too big" not in json.loads(unlimited.stdout)["explanation"]


def test_hostile_input_gets_one_clear_line_not_a_traceback(tmp_path: Path) -> None:
    import subprocess
    import sys

    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" + b"\xff" * 40)
    for argv in (["read-image", str(broken)], ["download", "--kind", "loras", "--civitai-version", "1",
                                               "--models-root", str(tmp_path / "nonexistent")],
                 ["download", "--kind", "loras", "--civitai-version", "1", "--folder", "/proc/1/x"]):
        done = subprocess.run([sys.executable, "-m", "services", *argv], capture_output=True, text=True, timeout=60)
        assert done.returncode != 0 and "Traceback" not in done.stderr, (argv, done.stderr)
        assert done.stderr.strip(), argv
        assert argv[0] != "download" or "not an existing folder" in done.stderr, done.stderr
    assert not (tmp_path / "nonexistent").exists()


def test_a_lora_rewritten_in_place_between_two_runs_is_read_again_before_it_is_used(
        models_root: Path, tmp_path: Path) -> None:
    """The second run starts from the folder listings the first saved; its folder's mtime does not show a
    sidecar rewritten in place, so the files an answer uses are checked, and read again."""
    for folder in [models_root, *(p for p in models_root.rglob("*") if p.is_dir())]:
        st = folder.stat()  # folders last changed an hour ago: their listings are worth saving
        os.utime(folder, ns=(st.st_atime_ns, st.st_mtime_ns - 3_600_000_000_000))
    ask = ("recommend", "--models-root", str(models_root), "--prompt", "anime girl with cat ears", "--no-ollama",
           "--cache-dir", str(tmp_path / "c"))
    first = json.loads(run(*ask).stdout)
    assert first["loras"][0]["trigger_words"] == ["cat ears"]
    sidecar = models_root / "loras" / "catEars.civitai.info"
    folder = (models_root / "loras").stat()
    sidecar.write_text(json.dumps({"baseModel": "SD 1.5", "trainedWords": ["nekomimi"],
                                   "model": {"name": "Cat Ears", "tags": ["cat"]}}))
    os.utime(models_root / "loras", ns=(folder.st_atime_ns, folder.st_mtime_ns))
    second = json.loads(run(*ask).stdout)
    assert second["loras"][0]["file"] == "loras/catEars.safetensors"
    assert second["loras"][0]["trigger_words"] == ["nekomimi"]
