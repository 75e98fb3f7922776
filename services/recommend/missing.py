"""What the library lacks for a prompt, offline: the prompt's concepts, as the shared vocabulary names them
("pixel art", "kimono" ...), for which no usable LoRA of the chosen family matches (nor the chosen checkpoint
itself), and the prompt's style when no checkpoint is marked for it; and the explanation lines for that.
Nothing here goes online (services/online/suggest.py searches, when asked): the recommend path stays light.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from ..library import base_model as bases
from ..library.scan import Library
from .analysis import PromptAnalysis
from .checkpoint import style_fit
from .loras import Match, matches_for
from .prompt_keys import PromptKeys


class Explained(Protocol):
    def explain(self) -> list[str]: ...


@dataclass
class MissingConcept:
    concept: str  # a vocabulary concept, or a style for checkpoints: the only words a search sends
    kind: str  # loras | checkpoints
    family: str
    base_model: str | None
    elsewhere: list[str] = field(default_factory=list)  # base models of local LoRAs that have it but do not fit

    def explain(self) -> str:
        if self.kind == "checkpoints":
            return f"No local checkpoint is marked {self.concept}; the choice fell back on other strengths."
        base = self.base_model or bases.DEFAULT_BASE_OF_FAMILY.get(self.family) or self.family
        line = f"No local LoRA for '{self.concept}' fits {base}"
        if self.elsewhere:
            line += f" ({len(self.elsewhere)} made for {', '.join(sorted(set(self.elsewhere)))} do)"
        return line + "."

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def missing_concepts(
    library: Library,
    analysis: PromptAnalysis,
    family: str,
    base_model: str | None = None,
    checkpoint: str | None = None,
    matches: list[Match] | None = None,
) -> list[MissingConcept]:
    """Concepts of the prompt no usable local model of `family` offers; the style when no checkpoint has it.

    A concept counts as offered by a LoRA of the family that matches it, a LoRA the user named or
    pinned in the prompt, or the chosen `checkpoint` itself (a pixel-art checkpoint needs no pixel-art LoRA).
    """
    keys = PromptKeys.of(analysis)
    have: set[str] = set()
    elsewhere: dict[str, list[str]] = {}
    for match in matches if matches is not None else matches_for(library, keys):
        entry = match.entry
        for concept in set(entry.concepts) & keys.concepts.keys():
            if entry.family == family and family != bases.UNKNOWN:
                have.add(concept)
            else:
                elsewhere.setdefault(concept, []).append(entry.base_model or entry.family)
    for named in analysis.user_loras:
        found = library.find("loras", named.name)
        have |= set(found.concepts) if found else set()
    chosen = library.find("checkpoints", checkpoint) if checkpoint else None
    have |= set(chosen.concepts) if chosen else set()
    base = base_model or bases.DEFAULT_BASE_OF_FAMILY.get(family)
    missing: list[MissingConcept] = []
    checkpoints = [e for e in library.choices("checkpoints") if e.usable]
    if analysis.style_scores.get(analysis.style, 0.0) > 0 and not any(style_fit(e, analysis.style) > 0
                                                                       for e in checkpoints):
        missing.append(MissingConcept(analysis.style, "checkpoints", family, base))
    for concept in keys.concepts:
        if concept not in have:
            missing.append(MissingConcept(concept, "loras", family, base, sorted(set(elsewhere.get(concept, [])))))
    return missing


def explain_missing(missing: list[MissingConcept], suggestions: Sequence[Explained] | None = None,
                    online_enabled: bool = False) -> list[str]:
    """Explanation lines: what no local model covers and, when searched, the candidates found."""
    if not missing:
        return []
    lines = [m.explain() for m in missing]
    if suggestions:
        for suggestion in suggestions:
            lines += suggestion.explain()
    elif not online_enabled:
        lines.append("To look for one on CivitAI and Hugging Face: the Model Library tab's Find models online "
                     "(only the concept, the kind and the base model are sent); nothing is downloaded without your "
                     "confirmation.")
    return lines
