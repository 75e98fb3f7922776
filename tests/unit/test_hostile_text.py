"""Every parser of untrusted text runs in bounded, near-linear time on adversarial strings.

`re` holds the GIL: one slow match froze ComfyUI's whole server (HTTP, websocket, editor). These are the
strings that did it (`<lora:a:` and 5,000 digits: 27 s to 66 s; 80 KB of spaces: 5.9 s; 480 KB of `k: v`
pairs: 6.4 s), and their relatives. The bound is generous (a second for ~100 KB, where the old patterns took
from 6 s to minutes), so a slow machine does not fail it but a backtracking pattern does.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from services.library.model_records import html_to_text
from services.library.sidecars import READERS
from services.online.civitai import fields_from_version
from services.recommend.analysis import analyze_keywords, concept_weights, split_user_loras
from services.records.infotext import parse_infotext
from services.records.naming import slugify
from services.records.read_back import read_generation
from services.text.lora_tags import find_lora_tags, lora_tags, without_lora_tags

LIMIT_S = 1.0
N = 100_000

HOSTILE = {
    "lora digits": "<lora:a:" + "1" * 5_000,
    "lora digits long": "<lora:a:" + "1" * N,
    "lora dots": "<lora:a:" + "1." * (N // 2),
    "many lora opens": "<lora:" * (N // 6),
    "lora opens with colons": "<lora:a:" * (N // 8),
    "spaces": " " * N,
    "spaces then lora": " " * N + "<lora:",
    "commas and spaces": ", " * (N // 2),
    "k: v pairs": "a\nSteps: 1, " + "k: v, " * (N // 6),
    "quoted k: v": "a\nSteps: 1, " + 'k: "v", ' * (N // 9),
    "open quote": 'a\nSteps: 1, k: "' + "x" * N,
    "weights": "(a:" + "1" * N,
    "nested parens": "(" * N + "a:1" + ")" * N,
    "brackets": "[" * N,
    "angles": "<" * N,
    "colons": ":" * N,
    "digits": "1" * N,
    "embedding": "embedding:" + "a" * N,
}


def _sidecars(text: str) -> None:
    data: dict[str, Any] = {"images": [{"meta": {"prompt": text}}], "description": text, "trainedWords": [text[:200]],
                            "civitai": {"images": [{"meta": {"prompt": text}}]}, "modelDescription": text}
    for _suffix, reader in READERS:
        reader(data)


def _civitai(text: str) -> None:
    version = {"id": 1, "name": "v", "images": [{"meta": {"prompt": text, "resources": []}}] * 3, "description": text}
    fields_from_version(version, {"id": 2, "description": text}, "https://civitai.com")


PARSERS: dict[str, Callable[[str], object]] = {
    "find_lora_tags": find_lora_tags,
    "lora_tags": lora_tags,
    "without_lora_tags": without_lora_tags,
    "split_user_loras": split_user_loras,
    "concept_weights": concept_weights,
    "analyze_keywords": analyze_keywords,
    "parse_infotext": parse_infotext,
    "read_generation": lambda text: read_generation({"parameters": text}),
    "slugify": slugify,
    "html_to_text": html_to_text,
    "sidecars": _sidecars,
    "civitai": _civitai,
}


@pytest.mark.parametrize("parser", PARSERS)
def test_every_parser_is_fast_on_every_hostile_string(parser: str) -> None:
    slow = {}
    for name, text in HOSTILE.items():
        start = time.perf_counter()
        PARSERS[parser](text)
        took = time.perf_counter() - start
        if took > LIMIT_S:
            slow[name] = round(took, 2)
    assert slow == {}, f"{parser} took seconds on {slow}"


def test_tags_read_as_a1111_writes_them() -> None:
    text = "a cat <lora:catEars:0.7>, <LORA:detail> <lora:x:.5:te=1> <lora::1> <lora:y:abc> <lora:z:1e999>"
    assert lora_tags(text) == [("catEars", 0.7), ("x", 0.5), ("z", 1.0)]  # a number's prefix, as A1111 reads it
    assert [(t.name, t.weight) for t in find_lora_tags(text)] == [
        ("catEars", 0.7), ("detail", None), ("x", 0.5), ("", 1.0), ("y", None), ("z", 1.0)]
    assert without_lora_tags("a cat <lora:catEars:0.7>,\t<lora:b:1> end").strip() == "a cat, end"
    assert without_lora_tags("no tags <lora:unclosed") == "no tags <lora:unclosed"


def test_user_loras_leave_a_tidy_prompt() -> None:
    cleaned, loras = split_user_loras("a cat , <lora:catEars:0.7>, <lora:detail>, on a sofa")
    assert cleaned == "a cat, on a sofa"
    assert [(u.name, u.weight) for u in loras] == [("catEars", 0.7), ("detail", 1.0)]


def test_settings_line_reads_quoted_unclosed_and_empty_pairs() -> None:
    parsed = parse_infotext('p\nSteps: 20, Model: "a, b", Seed: 5, , Last: "unclosed, x')
    assert parsed["settings"] == {"Steps": "20", "Model": "a, b", "Seed": "5", "Last": '"unclosed, x'}
