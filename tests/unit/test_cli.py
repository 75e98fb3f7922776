"""The command line, as scripts and the evaluation call it: `python -m services ...` from the repository root."""

from __future__ import annotations

import json
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
