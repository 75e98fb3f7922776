"""One decision, one path: the command line (`python -m services recommend`) decides for a prompt what the
nodes (Prompt Analyzer -> Auto Model Select -> LoRA Recommender) decide for it, on the same library."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from comfy_server import ROOT, VENV_PYTHON, ensure_tiny_models

PROMPTS = [
    "photo of a cat with cat ears, soft window light, 85mm",
    "anime girl with cat ears in a neon city at night",
    "neon-drenched megacity street, rain, cinematic",
    "a watercolor painting of a lighthouse",
    "a bowl of soup",
]


def test_the_cli_decides_what_the_nodes_decide(node_classes: dict[str, Any], comfy_folders: Path) -> None:
    infile = comfy_folders / "prompts.jsonl"
    infile.write_text("".join(json.dumps({"id": i, "prompt": p}) + "\n" for i, p in enumerate(PROMPTS)))
    out = subprocess.run([str(VENV_PYTHON), "-m", "services", "recommend", "--models-root", str(ensure_tiny_models()),
                          "--prompts-file", str(infile), "--cache-dir", str(comfy_folders / "cli_cache"), "--no-ollama",
                          "--vram-gb", "0"], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    cli = {answer["id"]: answer for answer in map(json.loads, out.stdout.splitlines())}
    decided_loras = 0
    for i, prompt in enumerate(PROMPTS):
        analysis = node_classes["IntelligentPromptAnalyzer"].execute(prompt, "", use_ollama=False).args[0]
        auto = node_classes["IntelligentAutoModelSelect"].execute(analysis, "auto").args
        plan = node_classes["IntelligentLoRARecommender"].execute(auto[0], auto[1], analysis, auto[3], 3, 1.0).args
        answer = cli[i]
        assert answer["analysis"]["style"] == analysis["style"], prompt
        assert answer["checkpoint"]["file"] == f"checkpoints/{auto[3]['checkpoint']}", prompt
        assert answer["params"] == auto[3]["parameters"], prompt
        assert [(lo["file"], lo["weight"]) for lo in answer["loras"]] == \
            [(f"loras/{lo['name']}", lo["weight"]) for lo in plan[4]["loras"]], prompt
        assert answer["positive_prompt"] == plan[5] and answer["negative_prompt"] == plan[4]["negative_prompt"], prompt
        decided_loras += len(answer["loras"])
    assert decided_loras  # the comparison covered real LoRA decisions, not only empty plans
