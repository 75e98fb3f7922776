"""What a prompt asks for, in the terms LoRA metadata uses, and how it names characters: by trigger word or
whole name, or by a first name written as a name."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..library.entries import ModelEntry
from ..library.scan import Library
from ..library.search import COMMON, EVERYDAY, PHRASE_JOIN, Hit, stem, word_frequency
from ..text.vocabulary import FLAT_MEDIA, GENERIC, concepts_in, content_words, fold, split_camel, words_in
from .analysis import PromptAnalysis


@dataclass
class PromptKeys:
    """What a prompt asks for, in the terms LoRA metadata uses."""

    style: str
    concepts: dict[str, str]
    words: set[str]
    flat: bool
    prompt: str = ""  # the prompt as written (without LoRA tags): its (word:1.3) weights weight the search
    llm_picks: set[str] = field(default_factory=set)  # LoRA names an LLM picked from a shortlist of real matches
    llm_judged: bool = False  # an LLM judged the shortlist: only its picks are applied
    capitalised: set[str] = field(default_factory=set)  # words written as names ("my OC Marisol"), folded
    leading: set[str] = field(default_factory=set)  # capitalised words that open a sentence: names or not

    @classmethod
    def of(cls, analysis: PromptAnalysis) -> PromptKeys:
        # Each concept with the prompt's own phrase for it (what its weight follows), then those only an LLM named.
        concepts = {**concepts_in(" , ".join(analysis.concepts)), **concepts_in(analysis.clean_prompt)}
        plain = words_in(analysis.clean_prompt)
        # "kaede hoshino" also as "kaedehoshino", the way trigger words are often written.
        joined = {a + b for a, b in zip(plain, plain[1:], strict=False)}
        written = set(fold(analysis.clean_prompt).split())  # "m1rav" as typed, not split as CamelCase
        return cls(analysis.style, concepts, set(plain) | joined | written, bool(FLAT_MEDIA & concepts.keys()),
                   analysis.clean_prompt, set(analysis.llm_loras), analysis.llm_judged_loras,
                   *capitalised_words(analysis.clean_prompt))


_NAME_RUN = re.compile(r"[A-Z][a-z\u00e0-\u00ff]+(?:[ \t]+[A-Z][a-z\u00e0-\u00ff]+)*")
_SENTENCE_START = re.compile(r"(?:^|[.!?:\n])\s*$")


def capitalised_words(prompt: str) -> tuple[set[str], set[str]]:
    """Single words written with a capital, as first names are: those inside a sentence ("my OC Marisol on her
    scooter"), and those that open the prompt or a sentence, where any word may be capitalised ("Mira el mar",
    and "Yuna sitting alone on a train"). An opening word that is no everyday word at all ("Isolde kneeling")
    is a name wherever it stands. Never a word of a longer name ("Kurone Mimi" is her, not a Mimi), unless the
    rest of it is everyday words, as titles are ("Brother Anselm", "Captain Reyes")."""
    inside: set[str] = set()
    leading: set[str] = set()
    for run in _NAME_RUN.finditer(prompt):
        words = [(m.start(), fold(m.group()).strip()) for m in re.finditer(r"\S+", run.group())]
        for i, (offset, word) in enumerate(words):
            if len(words) > 1 and any(word_frequency(other) < COMMON for j, (_o, other) in enumerate(words) if j != i):
                continue
            opening = _SENTENCE_START.search(prompt[:run.start() + offset])
            (leading if opening and word_frequency(word) >= EVERYDAY else inside).add(word)
    # Typed in lower case ("barnaby grinning", "kiki riding a unicycle"), a name is no proof either: like an
    # opening word it needs the prompt to speak of her otherwise. Words of every other page are never names.
    leading.update(w for w in _LOWER_WORD.findall(prompt) if word_frequency(w) < COMMON and w not in inside)
    return inside, leading


_LOWER_WORD = re.compile(r"(?<![\w'])[a-z\u00e0-\u00ff]{3,}(?![\w'])")


def name_words(library: Library, keys: PromptKeys) -> set[str]:
    """The words the prompt writes as names: a capitalised word inside a sentence; one opening a sentence only
    when no LoRA but a character writes it in its title, tags or description ("Rose garden at dawn" is about
    roses in a library with a rose LoRA), or only as the first word of its own title ("sayo pony v2", a
    character LoRA without tags)."""
    index, _documents = library.lora_search
    loras = library.of_kind("loras")
    known = characters_first_names(library)  # only a character's first name can be one (and is cheap to ask)
    opening = {w for w in keys.leading & known if not any(
        loras[doc].category != "character" and ORDINARY_FIELDS & set(fields) and w not in first_names(loras[doc])
        for doc, _tf, fields in index.postings.get(stem(w), ()))}
    return keys.capitalised | opening


def characters_first_names(library: Library) -> frozenset[str]:
    """Every character LoRA's first names, once per library: a prompt's lower-case words are asked against it."""
    known = library.derived.get("first names")
    if not isinstance(known, frozenset):
        known = library.derived["first names"] = frozenset(
            n for e in library.of_kind("loras") if e.category == "character" for n in first_names(e))
    return known


ORDINARY_FIELDS = frozenset({"title", "tags", "concepts", "description"})  # prose, not a trigger or caption token


def first_names(entry: ModelEntry) -> set[str]:
    """A character's first name, from its title ("Marisol Vega (OC) IL" -> "marisol"); behind a first word that
    everyday language writes ("Madame Ottilie Vance", "Mira Voss") the next one too, as either may be what the
    prompt calls her."""
    words = [w for w in content_words(fold(split_camel(entry.title)).split()) if w not in GENERIC]
    if not words or len(words[0]) <= 2:
        return set()
    found = {words[0]}
    if len(words) > 1 and len(words[1]) > 2 and word_frequency(words[0]) >= EVERYDAY:
        found.add(words[1])
    # Any later word of her name that no everyday text writes: "Kasuga Tomoe" (family name first) is also
    # "tomoe", "Vesna Orlova" also "orlova"; not "Pip the Dice Goblin"'s dice or goblin.
    name = _NAME_END.split(entry.title, maxsplit=1)[0]
    found.update(w for w in content_words(fold(split_camel(name)).split())[1:]
                 if len(w) > 2 and w not in GENERIC and word_frequency(w) < EVERYDAY)
    return found


_NAME_END = re.compile(r"\s*(?:[(\[{|:,]|\s[-\u2013\u2014]\s)")  # "Kasuga Tomoe (Castle Breakers!)", "Vesna - OC v2"


def named_characters(library: Library, keys: PromptKeys, index: Any, searched: set[int]) -> list[Any]:
    """Characters whose first name the prompt writes as a name, where the search's scores left them out: a
    first name common in everyday language ("Mira") scores low, and written as a name it is still hers."""
    loras = library.of_kind("loras")
    found = []
    for word in sorted(name_words(library, keys)):
        for doc, _tf, fields in index.postings.get(stem(word), ()):
            entry = loras[doc]
            if doc not in searched and entry.category == "character" and word in first_names(entry):
                found.append(Hit(doc, 0.0, {stem(word): list(fields)}))
                searched.add(doc)
    return found


def character_names(entry: ModelEntry, keys: PromptKeys, library: Library, hit: Any) -> set[str]:
    """How the prompt names this LoRA: its trigger or whole name, or (a character) its first name written as a
    name. "Kohaku" alone may be a koi, "Kohaku" capitalised inside a sentence is her."""
    names = set(entry.name_keys) & keys.words
    if not names and named_by_first_name(entry, keys, library, hit):
        names = first_names(entry) & name_words(library, keys)
    return names


def named_by_first_name(entry: ModelEntry, keys: PromptKeys, library: Library, hit: Any) -> bool:
    """Her first name written as a name. Opening a sentence, a capital is no proof ("Mira el acantilado": look
    at the cliff): there the prompt must also speak of her otherwise ("Yuna sitting alone on a train, school
    bag" beside her captions' "school uniform")."""
    names = first_names(entry) & name_words(library, keys) if entry.category == "character" else set()
    if not names:
        return False
    return bool(names & keys.capitalised) or any(
        t not in {stem(n) for n in names} and PHRASE_JOIN not in t for t in hit.matched)
