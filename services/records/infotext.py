"""A1111's `parameters` text ("infotext"), which CivitAI, A1111's PNG Info and many readers parse.

Layout: the prompt, a `Negative prompt:` line, then one settings line of
`Key: value` pairs starting with `Steps:`. Values containing a comma, colon or
newline are JSON-quoted, as A1111 does; `Hashes` is a bare JSON object, which
is what CivitAI's parser reads (a quoted one makes it drop every field).
"""

from __future__ import annotations

import json
from typing import Any

from ..text.lora_tags import lora_tags

# ComfyUI sampler/scheduler names -> A1111's, so readers show familiar names.
SAMPLER_NAMES = {
    "euler": "Euler", "euler_ancestral": "Euler a", "heun": "Heun", "dpm_2": "DPM2",
    "dpm_2_ancestral": "DPM2 a", "lms": "LMS", "dpm_fast": "DPM fast", "dpm_adaptive": "DPM adaptive",
    "dpmpp_2s_ancestral": "DPM++ 2S a", "dpmpp_sde": "DPM++ SDE", "dpmpp_2m": "DPM++ 2M",
    "dpmpp_2m_sde": "DPM++ 2M SDE", "dpmpp_3m_sde": "DPM++ 3M SDE", "ddim": "DDIM", "uni_pc": "UniPC",
    "lcm": "LCM",
}
SCHEDULER_NAMES = {
    "normal": "Automatic", "karras": "Karras", "exponential": "Exponential", "sgm_uniform": "SGM Uniform",
    "simple": "Simple", "ddim_uniform": "DDIM", "beta": "Beta",
}


_SAMPLER_OF = {v: k for k, v in SAMPLER_NAMES.items()}
_SCHEDULER_OF = {v: k for k, v in SCHEDULER_NAMES.items()}


def quote(value: Any) -> str:
    text = str(value)
    if any(c in text for c in ",:\n\""):
        return json.dumps(text, ensure_ascii=False)
    return text


def build_infotext(
    prompt: str,
    negative_prompt: str,
    settings: dict[str, Any],
    model_name: str | None = None,
    model_hash: str | None = None,
    loras: list[tuple[str, str | None, float | None]] | None = None,
    version: str | None = None,
) -> str:
    """`settings` holds steps, sampler, scheduler, cfg, seed, width, height and optionally clip_skip.

    `loras` are (name, AutoV3, weight): each becomes a `<lora:name:weight>` tag after the prompt's own
    words (where A1111 restores LoRAs from on paste, and readers take weights from) and a `lora:name`
    entry of `Hashes` (where CivitAI links resources).
    """
    pairs: list[tuple[str, Any]] = [("Steps", settings.get("steps"))]
    sampler = settings.get("sampler")
    if sampler:
        pairs.append(("Sampler", SAMPLER_NAMES.get(sampler, sampler)))
    scheduler = settings.get("scheduler")
    if scheduler:
        pairs.append(("Schedule type", SCHEDULER_NAMES.get(scheduler, scheduler)))
    pairs += [("CFG scale", settings.get("cfg")), ("Seed", settings.get("seed"))]
    if settings.get("width") and settings.get("height"):
        pairs.append(("Size", f"{settings['width']}x{settings['height']}"))
    if model_hash:
        pairs.append(("Model hash", model_hash[:10]))
    if model_name:
        pairs.append(("Model", model_name))
    if settings.get("clip_skip"):
        pairs.append(("Clip skip", settings["clip_skip"]))
    if settings.get("denoise") not in (None, 1, 1.0):
        pairs.append(("Denoising strength", settings["denoise"]))
    hashed_loras = [(n, h) for n, h, _ in (loras or []) if h]
    if hashed_loras:
        pairs.append(("Lora hashes", ", ".join(f"{n}: {h}" for n, h in hashed_loras)))
    hashes: dict[str, str] = {}
    if model_hash:
        hashes["model"] = model_hash[:10]
    for name, h in hashed_loras:
        hashes[f"lora:{name}"] = h
    if hashes:
        pairs.append(("Hashes", hashes))
    if version:
        pairs.append(("Version", version))
    settings_line = ", ".join(f"{k}: {_value(v)}" for k, v in pairs if v is not None and v != "")
    lines = [with_lora_tags(prompt.strip(), loras or [])]
    if negative_prompt.strip():
        lines.append(f"Negative prompt: {negative_prompt.strip()}")
    lines.append(settings_line)
    return "\n".join(lines)


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else quote(value)


def with_lora_tags(prompt: str, loras: list[tuple[str, str | None, float | None]]) -> str:
    """The prompt with a tag for each LoRA it does not already tag; its own words stay as they are."""
    tagged = {name.lower() for name, _ in lora_tags(prompt)}
    tags = [f"<lora:{name}:{_weight_text(weight)}>" for name, _, weight in loras
            if name.lower() not in tagged and ">" not in name and ":" not in name]
    return ", ".join(part for part in (prompt, " ".join(tags)) if part) if tags else prompt


def _weight_text(weight: float | None) -> str:
    return f"{1.0 if weight is None else weight:g}"


def parse_infotext(text: str) -> dict[str, Any]:
    """The inverse, enough to check what we wrote and to read other tools' images."""
    lines = text.strip().split("\n")
    settings_line = lines.pop() if lines and lines[-1].startswith("Steps: ") else ""
    negative = ""
    prompt_lines: list[str] = []
    for i, line in enumerate(lines):
        if line.startswith("Negative prompt: "):
            negative = "\n".join([line[len("Negative prompt: ") :], *lines[i + 1 :]])
            break
        prompt_lines.append(line)
    return {"prompt": "\n".join(prompt_lines), "negative_prompt": negative, "settings": _settings(settings_line)}


def _settings(line: str) -> dict[str, Any]:
    """`k: v, k: "quoted, v"`, `k: {json}` pairs, read by position (no copy of the rest per pair: linear)."""
    settings: dict[str, Any] = {}
    decoder = json.JSONDecoder()
    pos, end = 0, len(line)
    while pos < end:
        colon = line.find(": ", pos)
        value: str | dict[str, Any]
        if colon < 0:
            key, value, pos = line[pos:], "", end
        else:
            key = line[pos:colon]
            value, pos = _read_value(line, colon + 2, decoder)
        settings[key.strip()] = value.strip() if isinstance(value, str) else value
        while pos < end and line[pos] in ", ":
            pos += 1
    return settings


def _read_value(line: str, pos: int, decoder: json.JSONDecoder) -> tuple[str | dict[str, Any], int]:
    """One value from `pos`: a JSON string, a JSON object (`Hashes`), or the text up to the next comma."""
    if line.startswith('"', pos):
        try:
            text, after = decoder.raw_decode(line, pos)
            return str(text), after
        except ValueError:  # an unclosed quote: the rest is this value
            return line[pos:], len(line)
    if line.startswith("{", pos):
        try:
            found, after = decoder.raw_decode(line, pos)
            if isinstance(found, dict):
                return found, after
        except (ValueError, RecursionError):  # not JSON after all (or nested past reason): plain text
            pass
    comma = line.find(",", pos)
    comma = len(line) if comma < 0 else comma
    return line[pos:comma], comma


def comfy_sampler(sampler: str | None, scheduler: str | None) -> tuple[str | None, str | None]:
    """A1111's sampler and schedule names back to ComfyUI's.

    Older A1111 versions fold the schedule into the sampler ("DPM++ 2M Karras").
    Unknown names come back unchanged, for the caller to judge.
    """
    if sampler and sampler not in _SAMPLER_OF and not scheduler:
        for name in _SCHEDULER_OF:
            if sampler.endswith(" " + name) and sampler[: -len(name) - 1] in _SAMPLER_OF:
                sampler, scheduler = sampler[: -len(name) - 1], name
                break
    return (_SAMPLER_OF.get(sampler, sampler) if sampler else None,
            _SCHEDULER_OF.get(scheduler, scheduler) if scheduler else None)


