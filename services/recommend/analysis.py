"""Prompt analysis without an LLM: instant, offline, deterministic keyword rules.

The result drives checkpoint choice, LoRA scoring and parameters, so it is a
plain dataclass that serialises to JSON and travels between nodes.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from typing import Any

from ..text.lora_tags import find_lora_tags
from ..text.vocabulary import STYLES, concepts_in, fold, style_scores, words_in

CONTENT_WORDS: dict[str, tuple[str, ...]] = {
    "portrait": ("portrait", "headshot", "face", "close-up", "closeup", "selfie", "retrato", "rostro"),
    "character": (
        "woman", "man", "girl", "boy", "knight", "warrior", "wizard", "witch", "person",
        "character", "1girl", "1boy", "samurai", "princess", "soldier", "elf", "robot", "fisherman",
        "lady", "child", "king", "queen", "pirate", "ninja", "astronaut", "chef", "old man", "paladin",
        "pilot", "inventor", "mujer", "hombre", "chica", "chico", "nina", "nino", "anciana", "anciano",
    ),
    "animal": ("cat", "dog", "fox", "wolf", "bird", "horse", "dragon", "owl", "animal", "tiger", "puppy",
               "kitten", "snail", "crane", "gato", "perro", "zorro", "dragon", "pajaro"),
    "landscape": ("landscape", "mountain", "forest", "valley", "lake", "ocean", "sunset", "field", "coast",
                  "paisaje", "montana", "bosque"),
    "architecture": ("building", "castle", "cathedral", "interior", "architecture", "house", "temple",
                     "living room", "cafe", "shop", "city block", "edificio", "casa"),
    "scene": ("city", "street", "market", "battle", "crowd", "room", "tavern", "cityscape", "ciudad", "calle"),
    "object": ("product", "bottle", "car", "watch", "shoe", "cup", "object", "still life"),
    "abstract": ("abstract", "fractal", "pattern", "geometric", "surreal shapes"),
}

# Recommended sampling per style, for SD 1.5-class models; the selector adjusts per family.
STYLE_PARAMETERS: dict[str, dict[str, Any]] = {
    "realistic": {"steps": 30, "cfg": 6.0, "sampler": "dpmpp_2m", "scheduler": "karras"},
    "anime": {"steps": 28, "cfg": 7.0, "sampler": "euler_ancestral", "scheduler": "normal"},
    "artistic": {"steps": 30, "cfg": 7.5, "sampler": "dpmpp_2m", "scheduler": "karras"},
    "3d": {"steps": 30, "cfg": 6.5, "sampler": "dpmpp_2m", "scheduler": "karras"},
}

DEFAULT_STYLE = "realistic"  # what an unadorned prompt ("a cat") most often means

# Negative prompt terms per style, offered only when the user wrote none.
STYLE_NEGATIVES = {
    "realistic": "blurry, lowres, deformed, disfigured, cartoon, painting, watermark, text",
    "anime": "lowres, bad anatomy, bad hands, worst quality, low quality, jpeg artifacts, watermark",
    "artistic": "blurry, lowres, photo, watermark, signature, text",
    "3d": "lowres, blurry, flat, 2d, sketch, watermark",
}
QUALITY_WORDS = ("masterpiece", "best quality", "high quality", "highly detailed", "ultra detailed", "intricate",
                 "8k", "4k", "uhd", "sharp focus", "award winning", "absurdres", "highres")
# Prompt syntax that belongs to one base model's training captions.
BASE_SYNTAX = (("score 9", "Pony"), ("score 8 up", "Pony"), ("source anime", "Pony"), ("newest", "Illustrious"),
               ("very awa", "Illustrious"))
ANALYSIS_SCHEMA_VERSION = 1

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)"  # one way to match each number: untrusted text must not backtrack
_WEIGHT_SPANS = re.compile(r"\(([^():]+):\s*(" + _NUMBER + r")\s*\)")
_BRACKETED = re.compile(r"\[([^\[\]]+)\]")
_EMBEDDING = re.compile(r"\bembedding:[\w.\-]+", re.IGNORECASE)
_WEIGHTED = re.compile(r"\(([^():]+):" + _NUMBER + r"\)")
_COMMA_RUN = re.compile(r",(?:\s*,)+")  # starts at a comma: a run of blanks is never rescanned


@dataclass
class UserLora:
    """A `<lora:name:weight>` tag the user wrote: the user's choice, always kept."""

    name: str
    weight: float = 1.0


@dataclass
class PromptAnalysis:
    prompt: str
    negative_prompt: str
    style: str
    content_type: str
    concepts: list[str]
    source: str = "keywords"
    style_scores: dict[str, float] = field(default_factory=dict)
    suggested_parameters: dict[str, Any] = field(default_factory=dict)
    user_loras: list[UserLora] = field(default_factory=list)
    clean_prompt: str = ""
    reasons: list[str] = field(default_factory=list)
    schema_version: int = ANALYSIS_SCHEMA_VERSION
    concept_weights: dict[str, float] = field(default_factory=dict)  # from (word:1.3) syntax; 1.0 otherwise
    suggested_base: str | None = None  # a base model the prompt's own syntax is written for (score_9 -> Pony)
    quality_hints: list[str] = field(default_factory=list)
    suggested_negative: str = ""  # for the style, used only when the user gave no negative prompt
    llm_loras: list[str] = field(default_factory=list)  # the LLM's picks from a shortlist of real files
    llm_judged_loras: bool = False  # the LLM was shown candidates and judged them: its picks decide
    llm_checkpoint: str | None = None
    # Who decided the style: "words" (the prompt's style words), "default" (none), "you" (the style hint),
    # "llm", or "loras" (the LoRAs the prompt asks for outweighed its words). Only "words" and "default" give way
    # to what the library says about the LoRAs asked for.
    style_from: str = "words"

    @property
    def style_defaulted(self) -> bool:
        """No style words, no hint, no LLM: the library may know better (a named character)."""
        return self.style_from == "default"

    @property
    def negative_or_suggested(self) -> str:
        return self.negative_prompt if self.negative_prompt.strip() else self.suggested_negative

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PromptAnalysis:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["user_loras"] = [UserLora(**u) for u in known.get("user_loras", [])]
        return cls(**known)

    def explain(self) -> str:
        lines = [
            f"Analysis ({self.source}): style {self.style}, content {self.content_type}.",
            "Concepts: " + (", ".join(self.concepts) if self.concepts else "none found") + ".",
        ]
        if self.user_loras:
            lines.append(
                "LoRAs you named: " + ", ".join(f"{u.name} ({u.weight:g})" for u in self.user_loras) + "."
            )
        lines.extend(self.reasons)
        return "\n".join(lines)


def with_style(analysis: PromptAnalysis, style: str, reason: str) -> PromptAnalysis:
    """The analysis with another style (its parameters and suggested negative follow) and the reason said."""
    return replace(analysis, style=style, style_from="loras", suggested_parameters=dict(STYLE_PARAMETERS[style]),
                   suggested_negative=STYLE_NEGATIVES[style],
                   reasons=[r for r in analysis.reasons if not r.startswith("No style words")] + [reason])


def split_user_loras(prompt: str) -> tuple[str, list[UserLora]]:
    """Remove `<lora:name:weight>` tags from the prompt and return them separately."""
    tags = [t for t in find_lora_tags(prompt) if t.name]
    loras = [UserLora(t.name, 1.0 if t.weight is None else t.weight) for t in tags]
    kept, pos = [], 0
    for tag in tags:
        kept.append(prompt[pos:tag.start])
        pos = tag.end
    kept.append(prompt[pos:])
    pieces = _COMMA_RUN.split("".join(kept))
    if len(pieces) > 1:  # ", , ," left where tags were: one comma, blanks around it dropped
        pieces = [pieces[0].rstrip(), *(p.strip() for p in pieces[1:-1]), pieces[-1].lstrip()]
    return ", ".join(pieces).strip(" ,\n\t"), loras


def normalise(text: str) -> str:
    """Lower-case text with weighting syntax reduced to its words."""
    text = re.sub(r"\bBREAK\b", ",", text)  # A1111's chunk separator, upper-case only
    text = _WEIGHTED.sub(r"\1", text.lower())
    text = re.sub(r"[()\[\]{}]", " ", text).replace("_", " ")
    return re.sub(r"\s+", " ", text)


def _phrase_hits(padded: str, phrases: tuple[str, ...]) -> list[str]:
    return [p for p in phrases if p in padded]


@lru_cache(maxsize=1)
def _content_phrases() -> dict[str, tuple[str, ...]]:
    """CONTENT_WORDS as folded text reads them (" close up ")."""
    return {content: tuple(fold(w) for w in words) for content, words in CONTENT_WORDS.items()}


def extract_concepts(text: str) -> list[str]:
    """Canonical concepts the vocabulary recognises, then the prompt's other content words, de-duplicated."""
    found = list(concepts_in(text))
    noise = {"masterpiece", "quality", "resolution", "score", "up"}
    for word in words_in(text):
        if word not in noise and word not in found:
            found.append(word)
    return found


def concept_weights(prompt: str) -> dict[str, float]:
    """Weights the user gave with `(words:1.3)`, `((words))` or `[words]`, per concept found inside."""
    weights: dict[str, float] = {}
    for inner, value in _WEIGHT_SPANS.findall(prompt):
        for concept in concepts_in(inner):
            weights[concept] = max(weights.get(concept, 0.0), float(value))
    for inner in _BRACKETED.findall(prompt):
        for concept in concepts_in(inner):
            weights.setdefault(concept, 0.9)
    return weights


def analyze_keywords(prompt: str, negative_prompt: str = "", style_hint: str = "auto") -> PromptAnalysis:
    cleaned, user_loras = split_user_loras(prompt)
    text = normalise(_EMBEDDING.sub(" ", cleaned))  # textual inversions stay in the prompt but are no concepts
    scores = style_scores(text)
    best = max(STYLES, key=lambda s: scores[s])
    reasons: list[str] = []
    if style_hint in STYLES:
        style = style_hint
        reasons.append(f"Style {style}, as you set it.")
    elif scores[best] == 0:
        style = DEFAULT_STYLE
        reasons.append(f"No style words found; defaulting to {DEFAULT_STYLE}.")
    else:
        style = best
        reasons.append(f"Style {style} ({scores[style]:g} against {sorted(scores.values())[-2]:g} for the next).")
    folded = fold(text)
    content_hits = {c: _phrase_hits(folded, phrases) for c, phrases in _content_phrases().items()}
    content = max(content_hits, key=lambda c: len(content_hits[c]))
    if not content_hits[content]:
        content = "scene"
    return PromptAnalysis(
        prompt=prompt,
        negative_prompt=negative_prompt,
        style=style,
        content_type=content,
        concepts=extract_concepts(text),
        style_scores=scores,
        suggested_parameters=dict(STYLE_PARAMETERS[style]),
        user_loras=user_loras,
        clean_prompt=cleaned,
        reasons=reasons,
        concept_weights=concept_weights(cleaned),
        suggested_base=next((base for cue, base in BASE_SYNTAX if f" {cue} " in folded), None),
        quality_hints=[q for q in QUALITY_WORDS if f" {q} " in folded],
        suggested_negative=STYLE_NEGATIVES[style],
        style_from="you" if style_hint in STYLES else "default" if scores[best] == 0 else "words",
    )
