"""The ceiling of the LLM path: the recommender with a perfect local LLM, on a labelled set.

A loopback Ollama (tests/fakes/perfect_ollama.py) answers every request from the set's labels, inside
the schema the pack sent: it can pick only the candidates the library's search offered. The command line
runs as the scorer runs it, with --ollama-url instead of --no-ollama, and the scorer's own scoring prints
the figures. Targets (issue: retrieval): recall and coverage >= 0.95, precision >= 0.90.

Usage: .venv/bin/python bench/llm_ceiling.py --set DIR [--scorer ../shared/eval/score_recommender.py]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests")]

from fakes.perfect_ollama import PerfectOllama  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--set", required=True, type=Path)
    parser.add_argument("--scorer", type=Path, default=ROOT.parent / "shared" / "eval" / "score_recommender.py")
    args = parser.parse_args()
    spec = importlib.util.spec_from_file_location("score_recommender", args.scorer)
    assert spec and spec.loader
    scorer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorer)
    library = json.loads((args.set / "library.json").read_text(encoding="utf-8"))
    prompts = [json.loads(x) for x in (args.set / "prompts.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    with tempfile.TemporaryDirectory(prefix="ig-llm-ceiling-") as tmp, PerfectOllama(prompts) as fake:
        work = Path(tmp)
        scorer.materialize(library, work / "models")
        infile = work / "in.jsonl"
        infile.write_text("".join(json.dumps({"id": p["id"], "prompt": p["prompt"],
                                              "negative_prompt": p.get("negative_prompt", "")}) + "\n" for p in prompts))
        cmd = [str(ROOT / ".venv" / "bin" / "python"), "-m", "services", "recommend", "--models-root",
               str(work / "models"), "--prompts-file", str(infile), "--cache-dir", str(work / "cache"),
               "--ollama-url", fake.url, "--ollama-model", "perfect", "--vram-gb", "0"]
        out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
        answers = {str(o["id"]): o for o in map(json.loads, filter(None, out.stdout.splitlines())) if "id" in o}
        sources = {a.get("analysis", {}).get("source") for a in answers.values()}
        s = scorer.score(library, prompts, answers, False)
    print(f"set: {args.set.name}  prompts: {len(prompts)}  answered by: {', '.join(sorted(map(str, sources)))}  "
          f"chat requests: {len(fake.chat_requests)}")
    print("with a perfect LLM: style {style_accuracy:.2f} | checkpoint {checkpoint_fit:.2f} | lora precision "
          "{lora_precision:.2f} | forbidden {forbidden_rate:.2f} | required recall {required_recall:.2f} | coverage "
          "{required_coverage:.2f} | incompatible {incompatible_loras}+{incompatible_vaes} | triggers missing "
          "{trigger_words_missing}".format(**s))
    met = s["required_recall"] >= 0.95 and s["required_coverage"] >= 0.95 and s["lora_precision"] >= 0.90
    print(f"targets (recall, coverage >= 0.95, precision >= 0.90): {'PASS' if met else 'FAIL'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
