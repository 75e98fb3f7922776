"""Score LoRAs against a prompt and plan which to apply, at what weight, with which trigger words.

A LoRA is applied for what the prompt asks for, never for popularity:
- the library's search (library/search.py) finds it by its own metadata, and the words it names itself by carry it;
- LoRAs named by one same word of the prompt are one concept ("Slam Dunk", "Basketball Dunk"): one per image;
- a thinly described LoRA of another base that resembles a LoRA clearly asked for is that concept for its base;
- a character LoRA only when the character is named (recommend/prompt_keys.py);
- a LoRA leaning strongly to another style (anime eyes on a photo) is left out, and the LoRAs asked for have a
  say in the prompt's style;
- a general detail enhancer fills a free slot, except on flat media (pixel art, line art, watercolor ...) whose
  look it would spoil.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from functools import lru_cache
from typing import Any, TypedDict, cast

from ..library.entries import KIND_WORDS, ModelEntry
from ..library.scan import Library
from ..library.search import (
    MIN_IDENTITY,
    MIN_RELEVANCE,
    PHRASE_JOIN,
    agrees,
    foreign_words,
    query_terms,
    read_as_the_library,
    resemblance,
    surface_terms,
    terms,
)
from ..text.vocabulary import FLAT_MEDIA, fold
from .analysis import DEFAULT_STYLE, PromptAnalysis, with_style
from .feedback import Lean
from .prompt_keys import PromptKeys, character_names, named_by_first_name, named_characters

DEFAULT_WEIGHT = 0.8
DETAIL_WEIGHT = 0.5
MIN_SCORE = MIN_RELEVANCE
# Against the best candidate of the prompt: a LoRA a third as relevant as it is an accident of a shared word
# (a garden LoRA beside the koi-pond one), not a second thing the prompt asks for.
RELATIVE_FLOOR = 0.35
STRONG_ALONE = 2.0  # about two of the prompt's rare words in what a LoRA names itself by
MAX_PER_FAMILY = 40
STRONG_LEAN = 3.0  # a style score this high, with none for the prompt's style, means the LoRA fights it


class LoraSource(str, Enum):
    """Why a LoRA is in the plan; what its weight follows (its reason is prose, for people)."""

    PROMPT = "prompt"  # a `<lora:name:weight>` tag of the prompt: the user's weight stands
    PINNED = "pinned"  # chosen by the user beside the prompt: the user's weight stands
    MATCHED = "matched"  # the prompt asks for what it is made for
    DETAILER = "detailer"  # a general detail enhancer: a lighter default weight


@dataclass
class PlannedLora:
    name: str
    weight: float
    score: float
    trigger_words: list[str]
    reason: str
    base_model: str | None = None
    source: LoraSource = LoraSource.MATCHED


class PlannedLoraDict(TypedDict):
    name: str
    weight: float
    score: float
    trigger_words: list[str]
    reason: str
    base_model: str | None
    source: LoraSource


class LoraPlanDict(TypedDict):
    """A LoRA plan as the nodes pass it on (`LoraPlan.to_dict`)."""

    loras: list[PlannedLoraDict]
    positive_prompt: str
    negative_prompt: str
    rejected: dict[str, str]
    reasons: list[str]
    candidates: list[dict[str, Any]]
    incompatible: list[str]


@dataclass
class LoraPlan:
    loras: list[PlannedLora]
    positive_prompt: str
    negative_prompt: str
    rejected: dict[str, str] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    candidates: list[dict[str, Any]] = field(default_factory=list)  # ranked, for assisted mode
    incompatible: list[str] = field(default_factory=list)  # matches made for another base model

    def to_dict(self) -> LoraPlanDict:
        return cast(LoraPlanDict, asdict(self))

    def explain(self) -> str:
        if self.loras:
            lines = ["LoRAs: " + ", ".join(f"{p.name} at {p.weight:g}" for p in self.loras) + "."]
            lines += [f"- {p.name}: {p.reason}" for p in self.loras]
        else:
            lines = ["LoRAs: none fits this prompt."]
        if self.incompatible:
            lines.append(f"Left out {len(self.incompatible)} LoRA(s) made for another base model.")
        return "\n".join(lines + self.reasons)


@dataclass
class Match:
    entry: ModelEntry
    score: float
    matched: list[str]
    group: str  # one LoRA per group: two pixel-art LoRAs would fight


def fights_style(entry: ModelEntry, style: str) -> bool:
    if entry.category == "character" or not entry.styles:
        return False
    lean = max(entry.styles, key=lambda s: entry.styles[s])
    return lean != style and entry.styles[lean] >= STRONG_LEAN and not entry.styles.get(style)


def _searched(library: Library, keys: PromptKeys, min_score: float = 0.0) -> tuple[Any, Any, dict[str, float],
                                                                                  list[Any]]:
    """The library's search index, its documents, the prompt's query and the hits (library/search.py)."""
    index, documents = library.lora_search
    query = read_as_the_library(query_terms(keys.prompt, keys.concepts), keys.prompt, index)
    return index, documents, query, index.search(query, min_score)


def matches_for(library: Library, keys: PromptKeys, judge_style: bool = True) -> list[Match]:
    """Every LoRA (of any family) relevant to the prompt by its own metadata (library/search.py), best first.
    Characters only where they are named; nothing that fights the prompt's style (unless `judge_style` is off:
    the style is still to be decided); no detail LoRA on flat media."""
    found = []
    per_family: dict[str, int] = {}
    for match, picked in _candidates(library, keys):
        entry = match.entry
        if per_family.get(entry.family, 0) >= MAX_PER_FAMILY and not picked:
            continue  # a library of thousands of near-twins: the best few of each family decide, the rest wait
        if judge_style and fights_style(entry, keys.style):
            continue
        found.append(match)
        per_family[entry.family] = per_family.get(entry.family, 0) + 1
    return sorted(found, key=lambda m: (-m.score, m.entry.name))


def _candidates(library: Library, keys: PromptKeys) -> list[tuple[Match, bool]]:
    """The matches before the style and the per-family cap are judged, in search order, with whether the LLM
    picked each: the same for a prompt whatever its style, so the style's vote and the final matching share
    them (kept on the library, per prompt)."""
    key = (keys.prompt, tuple(sorted(keys.concepts.items())), frozenset(keys.words), keys.flat,
           frozenset(keys.llm_picks), keys.llm_judged, frozenset(keys.capitalised), frozenset(keys.leading))
    known = library.match_memo.get(key)
    if known is None:
        if len(library.match_memo) > 64:
            library.match_memo.clear()
        known = library.match_memo[key] = _candidates_of(library, keys)
    return known


def _candidates_of(library: Library, keys: PromptKeys) -> list[tuple[Match, bool]]:
    index, documents, query, hits = _searched(library, keys, 0.0 if keys.llm_picks else MIN_SCORE)
    loras = library.of_kind("loras")
    surface = surface_terms(", ".join([keys.prompt, *keys.concepts.values()]))
    found: list[tuple[Match, bool]] = []
    own_words: list[set[str]] = []  # per match: the prompt's words it names itself by
    met: list[set[str]] = []  # per match: every word of the prompt it has
    named_as: dict[str, set[str]] = {}  # character group -> the words of the names the prompt calls her by
    floors = relative_floors(hits, loras)
    named = named_characters(library, keys, index, {h.doc for h in hits})
    foreign = foreign_words(keys.prompt)
    for hit in [*hits, *named]:
        entry = loras[hit.doc]
        picked = entry.name in keys.llm_picks  # the local LLM read the whole prompt and chose it among candidates
        by_name = named_by_first_name(entry, keys, library, hit)
        if (keys.flat and entry.category == "detail") or not entry.usable:
            continue
        score = hit.score * (1.25 if picked else 1.0)
        if picked or by_name:
            score = max(score, MIN_SCORE)
        elif keys.llm_judged:
            continue
        elif (score < max(MIN_SCORE, _floor(hit, documents[hit.doc], floors, entry))
              or not agrees(hit, documents[hit.doc], index, query, foreign, surface)):
            continue  # nothing this weak is a second thing the prompt asks for (but see _same_concept)
        names = character_names(entry, keys, library, hit)
        if entry.category == "character" and not names:
            continue  # characters only where they are asked for
        if entry.category == "character":  # one LoRA per character, however many versions the library has
            group = max(sorted(names), key=len)
            own = {t for text in [entry.title, *entry.trigger_words] for t in terms(text)}
            named_as.setdefault(group, set()).update(t for t in hit.matched if t in own and PHRASE_JOIN not in t)
        else:  # one LoRA per concept: the vocabulary's, else its rarest identity word the prompt names
            group = _concept_group(entry, hit, keys, index, surface)
        found.append((Match(entry, round(score, 2), _evidence(hit, index, surface), group), picked))
        own_words.append(_defining_words(hit, index, query))
        met.append(set(hit.matched))
    found = _one_group_per_word(library, _versions_of_characters(found, met, named_as), own_words, index)
    return found + _same_concept(library, found, own_words, index, surface)


def _versions_of_characters(found: list[tuple[Match, bool]], met: list[set[str]],
                            named_as: dict[str, set[str]]) -> list[tuple[Match, bool]]:
    """A LoRA that is not known as a character but has every word of the name the prompt calls one by is another
    version of her (a kohya-only "ysh_pony" captioned "shirane yukina"): one character, one LoRA."""
    out = []
    for (match, picked), words in zip(found, met, strict=True):
        if match.entry.category != "character":
            her = next((name for name, stems in sorted(named_as.items()) if stems and stems <= words), None)
            match = replace(match, group=her) if her else match
        out.append((match, picked))
    return out


@lru_cache(maxsize=1)
def _kind_terms() -> frozenset[str]:
    return frozenset(terms(" ".join(sorted(KIND_WORDS))))  # stemmed: not at import time


def named_in_full(hit: Any, document: Any) -> bool:
    """The prompt writes every word of its title (two or more, besides the words for what kind of LoRA it is):
    "castle gate under a night siege" names "Castle Siege XL". Asked for by name, it is no accident of a shared
    word, however strongly another LoRA matches the rest of the prompt (the relative floor does not apply)."""
    own = {t for t in document.fields.get("title", ()) if PHRASE_JOIN not in t} - _kind_terms()
    return len(own) >= 2 and own <= hit.matched.keys()


def _floor(hit: Any, document: Any, floors: tuple[float, float], entry: ModelEntry) -> float:
    return 0.0 if named_in_full(hit, document) else floors[entry.category == "style"]


def relative_floors(hits: list[Any], loras: list[ModelEntry]) -> tuple[float, float]:
    """The least score a subject LoRA and a style LoRA need beside the prompt's best match (RELATIVE_FLOOR of it).
    A subject LoRA strong on its own (STRONG_ALONE) is judged against the best subject only: a style LoRA met by
    every style word of "impasto oil painting, thick palette knife strokes" leaves the icebreaker it paints no
    weaker for it."""
    best = hits[0].score if hits else 0.0
    subject = max((h.score for h in hits if loras[h.doc].category != "style"), default=0.0)
    return max(min(RELATIVE_FLOOR * best, STRONG_ALONE), RELATIVE_FLOOR * subject), RELATIVE_FLOOR * best


def _concept_group(entry: ModelEntry, hit: Any, keys: PromptKeys, index: Any, surface: dict[str, str]) -> str:
    # What it names itself as first ("Deep Blue": underwater, though its captions speak of god rays too).
    asked = keys.concepts.keys()
    concepts = sorted(set(entry.primary_concepts) & asked) or sorted(set(entry.concepts) & asked)
    identity = [t for t in sorted(hit.matched, key=lambda t: -index.idf(t)) if t in hit.identity_terms]
    return concepts[0] if concepts else surface.get(identity[0], identity[0]) if identity else entry.name


def _evidence(hit: Any, index: Any, surface: dict[str, str]) -> list[str]:
    """The prompt's words the LoRA met, rarest first, each with where: what the explanation says."""
    evidence = sorted(hit.matched, key=lambda t: -index.idf(t))
    return [f"{surface.get(t, t.replace(PHRASE_JOIN, ' '))} ({', '.join(_FIELD_NAMES[f] for f in hit.matched[t])})"
            for t in evidence if PHRASE_JOIN not in t or t in hit.identity_terms][:4]


MIN_RESEMBLANCE = 0.3
CAPTION_FIELDS = frozenset({"title", "trigger", "tags", "name", "concepts", "training"})


def _same_concept(library: Library, found: list[tuple[Match, bool]], own_words: list[set[str]], index: Any,
                  surface: dict[str, str]) -> list[tuple[Match, bool]]:
    """LoRAs too weak to be asked for on their own that are a concept already asked for, made for another base
    model and described more thinly: a kohya-only "rikishi xl" whose captions say "sumo", beside the SD 1.5 LoRA
    titled "Sumo Dohyo" that the prompt clearly asks for. Each names the concept's defining word in its own
    name, tags or training captions (a description's passing "tractor" is no tractor LoRA), resembles that LoRA
    (retrieval.resemblance), and is of a base model where the concept has no LoRA yet. Characters never: they are
    asked for by name. Found through the defining words' postings: a few lists, whatever the library's size."""
    from ..library.search import Hit

    loras = library.of_kind("loras")
    documents = library.lora_search[1]
    positions = library.lora_positions
    covered = {(m.group, m.entry.base_model) for m, _picked in found}  # Pony and SDXL LoRAs are not one
    seen = {positions[id(m.entry)] for m, _picked in found}
    added: list[tuple[Match, bool]] = []
    for (m, _picked), words in zip(found, own_words, strict=True):
        if m.entry.category == "character":
            continue
        for word in sorted(words):
            for doc, _tf, fields in index.postings.get(word, ()):
                entry = loras[doc]
                if (doc in seen or not CAPTION_FIELDS & set(fields) or entry.category == "character"
                        or not entry.usable or entry.family == m.entry.family
                        or (m.group, entry.base_model) in covered):
                    continue
                alike = resemblance(documents[doc], documents[positions[id(m.entry)]], index)
                if alike >= MIN_RESEMBLANCE:  # as relevant as the LoRA it resembles, as far as it resembles it
                    seen.add(doc)
                    covered.add((m.group, entry.base_model))
                    hit = Hit(doc, 0.0, {word: list(fields)})
                    added.append((Match(entry, round(m.score * alike, 2), _evidence(hit, index, surface), m.group),
                                  False))
    return added


DEFINING_SHARE = 0.75


def _defining_words(hit: Any, index: Any, query: dict[str, float]) -> set[str]:
    """The prompt's words a LoRA is most named by: its rarest own words met (within DEFINING_SHARE of the
    strongest), not a broad tag it shares with half the library ("chinese", "anime")."""
    weight = {t: index.idf(t) * query.get(t, 0.0) for t in hit.identity_terms if PHRASE_JOIN not in t}
    weight = {t: w for t, w in weight.items() if w >= MIN_IDENTITY / 2}
    top = max(weight.values(), default=0.0)
    return {t for t, w in weight.items() if w >= DEFINING_SHARE * top}


def _one_group_per_word(library: Library, found: list[tuple[Match, bool]], own_words: list[set[str]],
                        index: Any) -> list[tuple[Match, bool]]:
    """LoRAs that name themselves by one same word of the prompt are one concept, whatever else their names say:
    "slam dunk xl", "Basketball Dunk [IL]" and "Dunk [Pony]" are one dunk, so no two of them go into one image.
    Each joins the group of the best match before it that shares such a word; where one of the two was met only
    in its description or captions, they are one when they resemble each other (a Pony racing suit described
    as "fireproof overalls" beside "Racing Suit XL"). Characters stay by their names."""
    documents = library.lora_search[1]
    positions = library.lora_positions
    groups: list[tuple[str, set[str], Match]] = []
    merged = []
    for (match, picked), words in zip(found, own_words, strict=True):
        if match.entry.category != "character":
            mine = documents[positions[id(match.entry)]]
            joined = next((name for name, theirs, first in groups if theirs & words or not (words and theirs) and
                           resemblance(mine, documents[positions[id(first.entry)]], index) >= MIN_RESEMBLANCE), None)
            if joined is None:
                groups.append((match.group, words, match))
            else:
                match = replace(match, group=joined)
        merged.append((match, picked))
    return merged


def near_misses(library: Library, keys: PromptKeys, family: str, limit: int = 3) -> list[str]:
    """The strongest LoRAs of the family that the decision left out, each with why, in their own words."""
    index, documents, query, hits = _searched(library, keys, MIN_SCORE)  # the matching's search, reused
    loras = library.of_kind("loras")
    surface = surface_terms(", ".join([keys.prompt, *keys.concepts.values()]))
    floors = relative_floors(hits, loras)
    lines: list[str] = []
    for hit in hits:
        entry = loras[hit.doc]
        if entry.family != family or not entry.usable or hit.score < MIN_SCORE or keys.llm_judged:
            continue
        shared = ", ".join(sorted({surface.get(t, t) for t in hit.matched if PHRASE_JOIN not in t})[:3])
        name = entry.title or entry.name
        if entry.category == "character" and not character_names(entry, keys, library, hit):
            why = "a character the prompt does not name"
        elif fights_style(entry, keys.style):
            why = f"it leans to another style than {keys.style}"
        elif not agrees(hit, documents[hit.doc], index, query, foreign_words(keys.prompt), surface):
            why = f"only '{shared}' in common, and nothing else of its title, tags or description is in the prompt"
        elif hit.score < _floor(hit, documents[hit.doc], floors, entry):
            why = f"'{shared}' in common, but under a third as relevant as the best match"
        else:
            continue
        lines.append(f"Left out {name}: {why}.")
        if len(lines) >= limit:
            break
    return lines


def candidates_for(library: Library, keys: PromptKeys, limit: int = 30) -> list[ModelEntry]:
    """The most relevant LoRAs before any decision (for a local LLM to judge): usable, not fighting the
    prompt's style, characters only when named."""
    *_index, hits = _searched(library, keys)
    loras = library.of_kind("loras")
    found: list[ModelEntry] = []
    for hit in hits:
        entry = loras[hit.doc]
        if entry.usable and not fights_style(entry, keys.style) and (
                entry.category != "character" or character_names(entry, keys, library, hit)):
            found.append(entry)
        if len(found) >= limit:
            break
    return found


_FIELD_NAMES = {"title": "its title", "trigger": "its trigger word", "tags": "its tags", "name": "its file name",
                "concepts": "its concepts", "training": "its training captions", "description": "its description"}


ANIME_BASES = {"Pony", "Illustrious", "NoobAI"}  # bases trained on booru images: their LoRAs draw anime
MIN_STYLE_LEAN = 1.5
MIN_STYLE_WORDS = 1.5  # below this the prompt's style words are one weak cue (vocabulary weights: "painting" 2)
ART_STYLE = "artistic"
# What one LoRA the prompt asks for adds to its style words' scores: as much as one clear style word ("photo",
# "painting" count 2), so a named character drawn only in anime outweighs a stray "art", never "a photo of".
LORA_STYLE_VOTE = 2.0
STYLE_VOTERS = {"character", "style"}


def style_from_loras(library: Library, analysis: PromptAnalysis) -> PromptAnalysis:
    """The prompt's style, with a say for the LoRAs it asks for, found whatever their style: "Kaede Hoshino by
    the window" is anime when her LoRAs are; "collab art of Brineheart and Mimi" too, their LoRAs outweighing
    "art"; "an icon of a saint in egg tempera" artistic when the icon LoRA is. A named character decides alone;
    otherwise the three best matches vote by their own style words and base. A style you set, or the LLM's,
    stays; and the answer is the same however often this is asked."""
    if analysis.style_from not in ("words", "default"):
        return analysis
    decided = _style_vote(library, analysis)  # cheap when asked again: the matches are kept per prompt
    return analysis if decided is None else with_style(analysis, *decided)


def own_style(entry: ModelEntry) -> str | None:
    """The style a LoRA draws in, from its own words and base: one weak word ("print") is no style. A style LoRA
    that says neither photo, anime nor 3d is an art style (a mural, a mandala, a manuscript's illumination)."""
    lean = dict(entry.styles)
    if entry.base_model in ANIME_BASES:
        lean["anime"] = lean.get("anime", 0.0) + 2.0
    best = max(lean, key=lambda s: lean[s]) if lean else None
    if best and lean[best] >= MIN_STYLE_LEAN:
        return best
    return ART_STYLE if entry.category == "style" else None


def _style_vote(library: Library, analysis: PromptAnalysis) -> tuple[str, str] | None:
    """The style the LoRAs asked for give the prompt, and the reason; None when the prompt's own stands."""
    # Without style words, a LoRA leaning hard away from the default votes no more than it would be applied,
    # unless it is a style LoRA: one the prompt asks for names its style in words no list has ("Aquarell").
    # Against style words, a character or style LoRA of another style is exactly the evidence asked for.
    # One weak style word ("canvas" of a frigate, "pastel" walls) is no more than no style word: the LoRAs decide.
    unsure = analysis.style_defaulted or max(analysis.style_scores.values(), default=0.0) < MIN_STYLE_WORDS
    keys = PromptKeys.of(analysis)
    matches = matches_for(library, replace(keys, style=DEFAULT_STYLE) if unsure else keys, judge_style=False)
    if unsure:
        matches = [m for m in matches if m.entry.category == "style" or not fights_style(m.entry, DEFAULT_STYLE)]
    # How the picture is made is said by a style LoRA the prompt asks for (a lithograph poster of a character
    # trained on photos is a lithograph), else by a named character, else by the best matches.
    styles = [m for m in matches if m.entry.category == "style"] if unsure else []
    characters = [m for m in matches if m.entry.category == "character" and m.entry.styles]
    voters: list[tuple[Match, str]] = []
    heard: set[str] = set()  # one vote per concept, its best LoRA's: a Pony racing suit does not outvote the
    for m in styles or characters or matches:  # SDXL one that matched better and draws in no style of its own
        if m.entry.category == "detail" or m.group in heard or len(heard) >= 3:
            continue
        heard.add(m.group)
        best = own_style(m.entry)
        if best:
            voters.append((m, best))
    if not voters:
        return None
    named = voters[0][0].entry.title or voters[0][0].entry.name
    asked = f"the character you named ({named}) has" if characters else f"the LoRAs your prompt asks for ({named})"
    if unsure:
        votes: dict[str, float] = {}
        for m, best in voters:
            votes[best] = votes.get(best, 0.0) + m.score
        style = max(votes, key=lambda s: votes[s])
        if style == analysis.style and not analysis.style_defaulted:
            return None
        verb = f"{style} LoRAs" if characters else f"draw {style} images"
        words = "No style words" if analysis.style_defaulted else f"Only a weak style word for {analysis.style}"
        return style, f"{words}; {asked} {verb}, so {style}."
    # Against the prompt's own style words only what is about drawing counts: a named character, a style
    # LoRA. A Pony mariachi outfit or a kintsugi LoRA's "gold" says nothing about how the picture is made.
    combined = dict(analysis.style_scores)
    for m, best in voters:
        if m.entry.category in STYLE_VOTERS:
            combined[best] = combined.get(best, 0.0) + LORA_STYLE_VOTE
    style = max(combined, key=lambda s: (combined[s], s == analysis.style))  # a tie keeps the words' style
    if style == analysis.style:
        return None
    said = analysis.style_scores.get(analysis.style, 0.0)
    verb = f"{style} LoRAs" if characters else f"draw {style} images"
    return style, (f"Style {style}: your words lean {analysis.style} ({said:g}), but {asked} {verb} "
                   f"({combined[style]:g} in all).")


def matches_and_style(library: Library, analysis: PromptAnalysis) -> tuple[PromptAnalysis, list[Match]]:
    """The LoRAs a prompt asks for, and its analysis with the style they give it (matched in that style, so
    its LoRAs are not filtered out as fighting the style the words alone suggested)."""
    styled = style_from_loras(library, analysis)
    return styled, matches_for(library, PromptKeys.of(styled))


def covered_groups(matches: list[Match], family: str) -> dict[str, float]:
    """Concept group -> best score among LoRAs of this family: what a checkpoint of the family can offer."""
    groups: dict[str, float] = {}
    for m in matches:
        if m.entry.family == family:
            groups[m.group] = max(groups.get(m.group, 0.0), m.score)
    return groups


def plan_loras(
    library: Library,
    analysis: PromptAnalysis,
    family: str,
    max_loras: int = 3,
    weight_scale: float = 1.0,
    base_model: str | None = None,
    matches: list[Match] | None = None,
    pinned: list[tuple[str, float | None]] | None = None,
    excluded: frozenset[str] = frozenset(),
    leans: dict[tuple[str, str], Lean] | None = None,
) -> LoraPlan:
    """`pinned`: LoRAs the user chose (name, weight or None for the recommended one), applied first;
    `excluded`: never applied; `leans`: what ratings of similar prompts say about each LoRA."""
    if matches is None:
        analysis, matches = matches_and_style(library, analysis)
    else:
        analysis = style_from_loras(library, analysis)
    keys = PromptKeys.of(analysis)
    leans = leans or {}
    rejected: dict[str, str] = {}
    incompatible: list[str] = []
    chosen: list[tuple[PlannedLora, ModelEntry]] = []
    reasons: list[str] = []
    asked: list[tuple[str, float | None, LoraSource]] = [(u.name, u.weight, LoraSource.PROMPT)
                                                         for u in analysis.user_loras]
    asked += [(name, weight, LoraSource.PINNED) for name, weight in pinned or []]
    for name, weight, source in asked:
        why = "named in your prompt" if source is LoraSource.PROMPT else "pinned by you"
        entry = library.find("loras", name)
        if entry is None:
            reasons.append(f"LoRA '{name}' ({why}) is not in the loras folder; skipped it.")
            continue
        if entry.name in {e.name for _, e in chosen}:
            continue
        if entry.family != family:
            reasons.append(f"{entry.name} ({why}) is for {entry.base_model}, not this checkpoint; kept it as you asked.")
        chosen.append((PlannedLora(entry.name, weight or 0.0, 0.0, entry.trigger_words, why, entry.base_model, source),
                       entry))
    taken = {e.name for _, e in chosen}
    groups_taken: set[str] = set()
    usable = [x for x in matches if x.entry.name not in excluded]
    candidates: list[dict[str, Any]] = []
    for m in matches:
        entry = m.entry
        lean = leans.get(("loras", entry.name))
        adjusted = m.score * (1 + lean.value) if lean else m.score
        candidates.append({"name": entry.name, "base_model": entry.base_model, "score": round(adjusted, 2),
                           "why": ", ".join(dict.fromkeys(m.matched)) + (f"; {lean.describe()}" if lean else "")})
        if entry.name in excluded:
            rejected[entry.name] = "excluded by you"
            continue
        if entry.family != family or family == "unknown":
            rejected[entry.name] = f"incompatible: made for {entry.base_model or 'an unknown base'}"
            incompatible.append(entry.name)
            continue
        if adjusted < MIN_SCORE:
            rejected[entry.name] = lean.describe() if lean else "weak match"
            reasons.append(f"Left out {entry.name}: {rejected[entry.name]}.")
            continue
        if entry.name in taken or m.group in groups_taken or len(chosen) >= max_loras:
            continue
        best = _best_of_group(m, usable, family, base_model, leans)
        if best.entry.name in taken:
            continue
        groups_taken.add(m.group)
        best_lean = leans.get(("loras", best.entry.name))
        if best.entry.name != entry.name and lean and lean.value < 0:
            reasons.append(f"Chose {best.entry.name} over {entry.name}: {entry.name} was {lean.describe()}.")
        why = "asked for: " + ", ".join(dict.fromkeys(best.matched))
        chosen.append((PlannedLora(best.entry.name, 0.0, round(best.score, 2), _trigger_words(best.entry, analysis),
                                   why + (f"; {best_lean.describe()}" if best_lean else ""), best.entry.base_model),
                       best.entry))
        taken.add(best.entry.name)
    if len(chosen) < max_loras and not keys.flat:
        detailer = _detailer(library, family, base_model, keys.style, taken | excluded, leans)
        if detailer:
            triggers = [] if detailer.trigger_guessed else detailer.trigger_words  # see _trigger_words
            chosen.append((PlannedLora(detailer.name, 0.0, 0.0, triggers,
                                       "general detail enhancer", detailer.base_model, LoraSource.DETAILER), detailer))
    elif keys.flat:
        reasons.append("No detail enhancer: it would spoil the flat look of " + ", ".join(
            sorted(FLAT_MEDIA & keys.concepts.keys())) + ".")
    reasons += near_misses(library, keys, family)
    planned = [p for p, _ in chosen]
    _set_weights(chosen, weight_scale)
    positive = add_trigger_words(analysis.clean_prompt, planned)
    if not analysis.negative_prompt.strip() and analysis.suggested_negative:
        reasons.append(f"Negative prompt suggested for {analysis.style}: {analysis.suggested_negative}.")
    return LoraPlan(planned, positive, analysis.negative_or_suggested, rejected, reasons, candidates[:20], incompatible)


MIN_GROUP_SHARE = 0.5


def _best_of_group(first: Match, matches: list[Match], family: str, base_model: str | None,
                   leans: dict[tuple[str, str], Lean] | None = None) -> Match:
    """Among LoRAs for the same concept, those at least half as relevant as its best ("Long-Distance Sled Dog
    Race" beside a Pony "sled dogs" LoRA for a sled dog race): the exact base model first (Pony on Pony), then what ratings of
    similar prompts prefer, then one tagged with the concept's own name (an "oil painting" LoRA before an
    "impasto" one), then the one whose title or trigger word names it, then known metadata."""
    leans = leans or {}
    same = [m for m in matches if m.group == first.group and m.entry.family == family and m.entry.usable] or [first]
    top = max(m.score for m in same)
    # A character's versions are all her, however thinly described; elsewhere a far stronger match is the more
    # exact concept.
    if not any(m.entry.category == "character" for m in same):
        same = [m for m in same if m.score >= MIN_GROUP_SHARE * top]
    own_name = fold(first.group).strip()

    def lean(m: Match) -> float:
        found = leans.get(("loras", m.entry.name))
        return round(found.value, 2) if found else 0.0

    return min(same, key=lambda m: (m.entry.base_model != base_model, -lean(m), own_name not in m.entry.tag_keys,
                                    first.group not in m.entry.primary_concepts, not m.entry.known,
                                    m.entry.trigger_guessed, -m.score, -m.entry.popularity, m.entry.name))


def _trigger_words(entry: ModelEntry, analysis: PromptAnalysis) -> list[str]:
    """Published trigger words always. A guessed one is only a guess: a pair of broad caption tags
    ("realistic, holding") is used only when the prompt already speaks of it, so it cannot add content
    nobody asked for (detail enhancers, added to every image, get no guessed trigger at all)."""
    if not entry.trigger_guessed or not entry.trigger_words or "," not in entry.trigger_words[0]:
        return entry.trigger_words
    prompt = set(fold(analysis.clean_prompt).split())
    return entry.trigger_words if prompt & set(fold(entry.trigger_words[0]).split()) else []


def _detailer(library: Library, family: str, base_model: str | None, style: str, taken: set[str],
              leans: dict[tuple[str, str], Lean] | None = None) -> ModelEntry | None:
    leans = leans or {}
    pool = [e for e in library.detailers.get(family, []) if e.name not in taken and not fights_style(e, style)]
    pool.sort(key=lambda e: -(leans[("loras", e.name)].value if ("loras", e.name) in leans else 0.0))
    exact = [e for e in pool if e.base_model == base_model]
    return (exact or pool)[0] if pool else None


def _set_weights(chosen: list[tuple[PlannedLora, ModelEntry]], scale: float) -> None:
    """Metadata's weight, else a default; stacked LoRAs are turned down so they do not overcook the image."""
    stack = 1.0 if len(chosen) <= 1 else 0.9 if len(chosen) == 2 else 0.8
    for planned, entry in chosen:
        if planned.source in (LoraSource.PROMPT, LoraSource.PINNED) and planned.weight:
            continue
        base = entry.preferred_weight or (DETAIL_WEIGHT if planned.source is LoraSource.DETAILER else DEFAULT_WEIGHT)
        planned.weight = round(base * stack * scale, 2)


def add_trigger_words(prompt: str, loras: list[PlannedLora]) -> str:
    """Append each LoRA's first trigger word unless the prompt already has one of them; the user's text stays as is."""
    text = prompt.lower()
    extra: list[str] = []
    for lora in loras:
        words = [w.strip() for w in lora.trigger_words if w.strip()]
        if words and not any(w.lower() in text for w in words) and words[0] not in extra:
            extra.append(words[0])
    return ", ".join([prompt.strip(" ,"), *extra]) if extra else prompt
