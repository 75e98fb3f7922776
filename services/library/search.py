"""Search the library by what each model says about itself (BM25F over its own metadata, field by field).

Every LoRA is a document: title, trigger words, tags, file and folder names, the vocabulary's concepts
for it, kohya training tags and its description. Words are folded (case, accents, hyphens, CamelCase,
snake_case) and stemmed (Snowball), adjacent words also count as a phrase, and the prompt's `(word:1.3)`
weights weight the query. A prompt's word the library does not know is read as the library writes it (inside
a German compound, or as another word's stem). The hand vocabulary only expands a query (its concept names
join the words); it never decides whether a LoRA can be found: a LoRA no list knows is found from its own words.

Relevance decides; calibration keeps accidents out. A LoRA is applied when
- its score clears MIN_RELEVANCE (in units of a word no other model has: one rare word in its title and
  tags is enough, one common word is not);
- its identity agrees: at least one matched word is in its title, trigger words, tags, name or concepts;
  or, with none, three or more of the prompt's specific words are in its description or training captions
  (one or two such words are supporting evidence, never the reason);
- and one word alone does not decide when the rest of the document disagrees: a single matched word needs
  to be a phrase, a trigger word, most of what the LoRA names itself, or a word no everyday language writes
  (one meaning: "astrolabe", "tempera") in two of its own fields ("crane" alone does not pick "Tower Crane
  Construction Site" for a bird);
- and (lora_scoring.RELATIVE_FLOOR) it is at least a third as relevant as the prompt's best candidate.
"""
from __future__ import annotations

import bisect
import heapq
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from ..text.vocabulary import GENERIC, STOPWORDS, STYLE_CUES, fold, split_camel

# Field weights: what a model names itself counts most, what its description says least.
FIELDS: dict[str, float] = {"title": 3.0, "trigger": 3.0, "tags": 2.0, "name": 1.5, "concepts": 2.0,
                            "training": 0.8, "description": 0.6}
IDENTITY = frozenset({"title", "trigger", "tags", "name", "concepts"})
K1, B = 1.2, 0.5
MIN_LIBRARY = 200  # a small library is read as if it had this many models: two LoRAs sharing "fire" is no evidence
                   # that "fire" is a common word
MIN_RELEVANCE = 0.9  # in unique-word units (idf 1.0, see SearchIndex.idf)
MIN_IDENTITY = 0.45  # idf x specificity of the words met in what it names itself
MIN_DESCRIBED = 2.0
BROAD_WEIGHT = 0.3
EXPANSION_WEIGHT = 0.7
NEGLIGIBLE = 0.02  # idf x weight below this adds nothing a decision could see
MAX_HITS = 400  # the same, summed over three or more words met only in its description or captions
PHRASE_JOIN = "_"

# Words that say how to use a model or how good an image should be, never what it shows.
NOISE = {
    "lora", "loras", "lycoris", "locon", "model", "models", "version", "checkpoint", "trigger", "triggers",
    "weight", "weights", "strength", "use", "using", "used", "recommend", "recommended", "work", "works",
    "trained", "training", "train", "epoch", "dataset", "sampler", "steps", "cfg", "clip", "skip", "euler",
    "karras", "dpm", "masterpiece", "best", "quality", "high", "highres", "absurdres", "lowres", "score",
    "up", "detailed", "ultra", "intricate", "uhd", "8k", "4k", "hd", "sharp", "focus", "award", "winning",
    "newest", "awa", "safe", "nsfw", "sfw", "good", "great", "nice", "also", "just", "more", "most", "less",
    "like", "can", "will", "may", "it", "be", "not", "no", "you", "your", "my", "me", "we", "our", "i", "if",
    "so", "all", "any", "some", "one", "two", "only", "well", "make", "makes", "made", "get", "give", "gives",
    "add", "adds", "help", "helps", "around", "about", "between", "without", "through", "while", "which",
    "who", "what", "where", "when", "than", "then", "there", "here", "these", "those", "them", "they", "he",
    "she", "was", "were", "been", "has", "have", "had", "do", "does", "did", "image", "images", "picture",
    "pictures", "generate", "generation", "prompt", "prompts", "base", "sdxl", "sd15", "xl", "flux", "pony",
    "illustrious", "noobai", "sd", "sd1", "sd3", "v1", "v2", "v3", "v4", "v5", "v6", "fp8", "fp16", "bf16",
    "safetensors", "final", "last", "new", "update", "updated", "style", "styles", "el", "es", "muy", "para",
    "que", "lo", "se", "mas", "estilo", "each", "other", "every", "too", "very", "much", "many",
}
# Words of a model page's prose on how to use it ("trained on the base model, clip skip 2, weight 0.7") that
# in a name or a prompt are what the picture shows: a steam train, a base camp, a fashion model, stone steps.
USAGE = frozenset({"base", "model", "models", "train", "steps", "clip", "weight", "weights", "trigger"})
_NAME_NOISE = NOISE - USAGE


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import snowballstemmer  # the Snowball project's own English stemmer

    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return str(_stemmer().stemWord(word)) if len(word) > 3 and word.isalpha() else word


_TAIL = re.compile(r"v\d+\w*|\d+(k|px)?|r\d+|e\d+")  # version, size and rank tails: no content ("35mm" film is)


def _words(text: str, prose: bool = False) -> list[str]:
    """Folded content words of a text, CamelCase and snake_case split, version tails and digits dropped; in a
    description (`prose`) the words of how to use a model too."""
    noise = NOISE if prose else _NAME_NOISE
    return [w for w in fold(split_camel(text)).split()
            if len(w) > 1 and w not in STOPWORDS and w not in noise and not _TAIL.fullmatch(w)]


content_words_of = _words  # what the library asks of the search's reading of words


_PIECES = re.compile(r"[,;.|/\n()\[\]{}:]+")  # phrases never cross a comma or a bracket


def terms(text: str) -> list[str]:
    """Stemmed words, then each pair of adjacent words as one phrase term ("pixel_art")."""
    return list(_terms(text))


@lru_cache(maxsize=100_000)
def _terms(text: str, prose: bool = False) -> tuple[str, ...]:  # tags and names repeat across thousands of LoRAs
    pieces = [p for p in _PIECES.split(text) if p.strip()]
    out: list[str] = []
    pairs: list[str] = []
    for piece in pieces:
        stems = [stem(w) for w in _words(piece, prose)]
        out.extend(stems)
        pairs.extend(a + PHRASE_JOIN + b for a, b in zip(stems, stems[1:], strict=False) if a != b)
    return (*out, *pairs)


_WEIGHT_SPAN = re.compile(r"\(([^():]+):\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+))\s*\)")


@lru_cache(maxsize=1)
def _spanish_stemmer() -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer("spanish")


@lru_cache(maxsize=50_000)
def spanish_stem(word: str) -> str | None:
    """A Spanish word's Snowball stem, which for a cognate is the English word's ("romanos" -> "roman"); None
    for a word more English than Spanish (metadata is mostly English, prompts are often Spanish)."""
    if len(word) <= 3 or not word.isalpha():
        return None
    zipf = _zipf()
    if zipf(word, "es", wordlist="small") < zipf(word, "en", wordlist="small") + 1.0:
        return None
    return str(_spanish_stemmer().stemWord(word))


@lru_cache(maxsize=1)
def _zipf() -> Any:
    from wordfreq import zipf_frequency  # word frequencies of everyday language (many sources)

    return zipf_frequency


@lru_cache(maxsize=50_000)
def specificity(words: str) -> float:
    """How much a prompt's word can say about a LoRA, from how common it is in everyday English: "game" or
    "art" (in every other sentence) little, "lighthouse" or a word no list has ("m1rav") fully. A small
    library's own document frequencies are too noisy to tell these apart alone."""
    return min(1.0, max(0.3, (7.0 - word_frequency(words)) / 3.0))


@lru_cache(maxsize=1)
def _broad() -> frozenset[str]:
    """Words that tell a style or a kind of picture ("anime", "3d", "cute", "portrait"): the style decides
    on them (the checkpoint, a style conflict); they are not what a LoRA is chosen for."""
    return frozenset(" ".join(_words(w)) for w in [*GENERIC, *(c for cues in STYLE_CUES.values() for c in cues)]) - {""}


# German, Dutch and Nordic prompts join what English metadata writes apart ("Forschungsstation"). Only a prompt
# mostly in another language (foreign_words) is read so: in an English one a "telephoto" lens is no photo and a
# butterfly no butter. Each part is at least MIN_PART letters.
MIN_PART = 4
COMPOUND_WEIGHT = 0.8
_LINKS = ("s", "es", "n", "en", "e")  # what German joins parts with ("Forschung-s-station")


def read_as_the_library(query: dict[str, float], prompt: str, index: SearchIndex) -> dict[str, float]:
    """The query with the prompt's words the library does not know read as its metadata writes them: a word
    that is itself another word's stem ("aquarell", the stem of "aquarelle", which the English stemmer would
    cut to "aquarel"), and in a prompt of another language a compound of words it knows ("Forschungsstation"
    -> "station", "Polarforscher" -> "polar")."""
    known = index.postings
    out = dict(query)
    compounds = foreign_words(prompt)
    for term, surface in surface_terms(prompt).items():
        if PHRASE_JOIN in term or term in known or term not in query:
            continue
        if surface in known:
            out.setdefault(surface, query[term])
        elif compounds:
            spanish = spanish_stem(surface)  # a Spanish word is no compound ("astronauta" is no "astro")
            parts = compound_parts(surface, known) if spanish is None else []
            if not parts and spanish not in known:
                parts = index.cognates(surface)
            for part in parts:
                out.setdefault(part, COMPOUND_WEIGHT * query[term])
    return out


def cognate_skeleton(word: str) -> str:
    """How a word of a Romance language and its English cognate are both spelt, roughly: "fotografía" and
    "photography", "estación" and "station", "ilustración" and "illustration" (ph as f, th as t, -tion as
    -ción, doubled letters once, final vowels dropped, a Spanish e before s and a consonant dropped)."""
    w = word
    for written, read in (("ph", "f"), ("th", "t"), ("tion", "cion"), ("sion", "cion"), ("y", "i"), ("k", "c")):
        w = w.replace(written, read)
    w = _DOUBLED.sub(r"\1", w)
    if _PROTHETIC.match(w):
        w = w[1:]
    return w.rstrip("aeiou") or w


_DOUBLED = re.compile(r"(.)\1")
_PROTHETIC = re.compile(r"es[^aeiou]")
MIN_COGNATE = 5  # letters of a skeleton that must agree: "carpet" is no "carpa"
MOST_OF_IT = 0.7


def compound_parts(word: str, known: Mapping[str, Any]) -> list[str]:
    """The terms the library knows in a word joined of two (each of at least MIN_PART letters, the known ones as
    written or without a linking letter), from the split that explains most of the word; [] when none."""
    if len(word) < 2 * MIN_PART or not word.isalpha():
        return []

    def read(part: str) -> str | None:
        for written in (part, *(part[:-len(link)] for link in _LINKS if part.endswith(link))):
            if len(written) >= MIN_PART and (term := stem(written)) in known:
                return term
        return None

    best: tuple[int, list[str]] = (0, [])
    for i in range(MIN_PART, len(word) - MIN_PART + 1):
        parts = [(p, term) for p in (word[:i], word[i:]) if (term := read(p))]
        best = max(best, (sum(len(p) for p, _term in parts), [term for _p, term in parts]))
    return best[1]


def concept_term(concept: str) -> str:
    """A vocabulary concept as one term ("dark fantasy" -> "dark_fantasi"): it counts once, as a concept."""
    return PHRASE_JOIN.join(stem(w) for w in _words(concept)) or concept


def query_terms(prompt: str, expansions: Mapping[str, str] | None = None) -> dict[str, float]:
    """Term -> weight for a prompt: its specificity, times the `(words:w)` weight inside such a span. An
    expansion (concept -> the prompt's phrase the vocabulary read it in) weighs 0.7 of that phrase: a concept
    read from a broad word ("gothic" -> dark fantasy) stays as weak as the word."""
    emphasis: dict[str, float] = {}
    for match in _WEIGHT_SPAN.finditer(prompt):
        for t in terms(match.group(1)):
            emphasis[t] = max(emphasis.get(t, 0.0), min(2.0, float(match.group(2))))
    weights: dict[str, float] = {}
    broad = _broad()
    # A comma-separated tag that is a broad cue as a whole ("looking at viewer", "upper body") is broad word
    # by word too: its words are what every captioned LoRA has.
    broad_terms = {t for piece in _PIECES.split(prompt) if " ".join(_words(piece)) in broad for t in terms(piece)}
    for piece in _PIECES.split(prompt):  # and so is each word of a broad phrase inside one ("sci-fi" in a sentence)
        found = _words(piece)
        for n in (2, 3):
            for i in range(len(found) - n + 1):
                if " ".join(found[i:i + n]) in broad:
                    broad_terms.update(terms(" ".join(found[i:i + n])))
    for t, surface in surface_terms(prompt).items():
        weights[t] = specificity(surface) * emphasis.get(t, 1.0) * (
            BROAD_WEIGHT if surface in broad or t in broad_terms else 1.0)
        spanish = spanish_stem(surface) if PHRASE_JOIN not in t else None
        if spanish and spanish != t:
            weights.setdefault(spanish, weights[t])  # "romanos" also as "roman", "vikingos" as "viking"
    for concept, phrase in (expansions or {}).items():
        read = [weights[t] for t in terms(phrase) if t in weights]
        weights.setdefault(concept_term(concept), EXPANSION_WEIGHT * max(read, default=specificity(phrase)))
    return weights


def surface_terms(text: str) -> dict[str, str]:
    """Term -> the text's own words for it ("beekeep" -> "beekeeper", "pixel_art" -> "pixel art")."""
    out: dict[str, str] = {}
    for piece in _PIECES.split(text):
        words = _words(piece)
        stems = [stem(w) for w in words]
        for w, s in zip(words, stems, strict=True):
            out.setdefault(s, w)
        for i in range(len(stems) - 1):
            if stems[i] != stems[i + 1]:
                out.setdefault(stems[i] + PHRASE_JOIN + stems[i + 1], f"{words[i]} {words[i + 1]}")
    return out


@dataclass
class Document:
    """One model's words by field (stemmed, phrases included)."""

    fields: dict[str, list[str]]
    whole: set[str] = field(default_factory=set)  # one-word triggers, concepts and titles: a name in one word

    @cached_property
    def words(self) -> frozenset[str]:
        """Every single word of every field (no phrases): what it says of itself, as a set."""
        return frozenset(t for terms in self.fields.values() for t in terms if PHRASE_JOIN not in t)

    @classmethod
    def of(cls, title: str, triggers: list[str], tags: list[str], name: str, concepts: list[str],
           training: list[str], description: str, kind_words: frozenset[str] = frozenset()) -> Document:
        """`kind_words` say what kind of LoRA it is ("style", "fix", "effect"), not what it is of: they do
        not count when asking whether one word is the whole of a name."""
        folder_and_file = name.rsplit(".", 1)[0].replace("/", " , ")
        kinds = {stem(w) for w in kind_words}
        title_terms, tag_terms = _terms(title), [t for tag in tags for t in _terms(tag)]
        joined = [j for w in triggers if (j := _joined(w))]
        named = [[t for t in words if PHRASE_JOIN not in t and t not in kinds]
                 for words in [*map(_terms, triggers), *map(_terms, concepts), title_terms, tag_terms]]
        whole = {words[0] for words in named if len(set(words)) == 1} | set(joined)
        return cls({
            "title": list(title_terms),
            "trigger": [t for w in triggers for t in _terms(w)] + joined,
            "tags": tag_terms,
            "name": list(_terms(folder_and_file)),
            "concepts": [concept_term(c) for c in concepts],
            "training": [t for tag in training for t in _terms(tag)],
            "description": list(_terms(description[:600], prose=True)),
        }, whole)


class Documents:
    """The LoRAs' documents in index order, each kept as its JSON text until a search hit asks for it (a few per
    prompt; kept decoded after). 100,000 documents then hold 100,000 strings, not a million lists and words.
    `remake(i)` makes document i again from its model when its text is damaged."""

    def __init__(self, texts: list[str], remake: Callable[[int], Document],
                 lengths: list[tuple[int, ...] | None] | None = None) -> None:
        self.texts, self._remake = texts, remake
        # Each document's field lengths (FIELDS order), once known: a rebuild after one file changed then decodes
        # each text once, not twice.
        self.lengths = lengths or [None] * len(texts)
        self._decoded: dict[int, Document] = {}

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, i: int) -> Document:
        found = self._decoded.get(i)
        if found is None:
            found = self._decoded[i] = self.read(i)
        return found

    def lengths_of(self, i: int) -> tuple[int, ...]:
        known = self.lengths[i]
        if known is None:
            known = self.lengths[i] = field_lengths(self.read(i))
        return known

    def read(self, i: int) -> Document:
        """Document i decoded anew, not kept (as the index's build reads every one)."""
        document = decoded_document(self.texts[i])
        if document is None:  # a damaged stored row: made again, and kept as made
            document = self._remake(i)
            self.texts[i] = encoded_document(document)
        return document


def field_lengths(document: Document) -> tuple[int, ...]:
    return tuple(len(document.fields.get(name, ())) for name in FIELDS)


def encoded_document(document: Document) -> str:
    return json.dumps([document.fields, sorted(document.whole)])


def decoded_document(text: str) -> Document | None:
    """A document from its text, or None when the text is not one (damaged: its shape is checked, not every
    word)."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if (isinstance(value, list) and len(value) == 2 and isinstance(value[0], dict) and isinstance(value[1], list)
            and value[0].keys() <= FIELDS.keys()):
        return Document(value[0], set(value[1]))
    return None


EMPTY_DOCUMENT = encoded_document(Document({}))


def _joined(word: str) -> str:
    """A trigger word written as one token ("m1rav", "mira voss" -> "miravoss"), as prompts may write it."""
    joined = re.sub(r"[^a-z0-9]", "", fold(word))
    return joined if len(joined) > 2 else ""


@dataclass
class Hit:
    """One document's relevance to a query, with the evidence."""

    doc: int
    score: float
    matched: dict[str, list[str]]  # term -> the fields it was found in

    @property
    def identity_terms(self) -> list[str]:
        return [t for t, fs in self.matched.items() if IDENTITY & set(fs)]


@dataclass
class SearchIndex:
    """An inverted index over documents: term -> [(doc, weighted length-normalised tf over its fields, fields)]."""

    size: int
    postings: dict[str, list[tuple[int, float, tuple[str, ...]]]] = field(default_factory=dict)
    _idf: dict[str, float] = field(default_factory=dict, repr=False)
    _last: tuple[Any, list[Hit]] | None = field(default=None, repr=False)

    @classmethod
    def build(cls, documents: Documents | list[Document]) -> SearchIndex:
        """Two passes over the documents (the field lengths' averages first, from lengths known or read), each
        document decoded for the moment it is read: a JSON decode costs less than holding 100,000 decoded
        documents."""
        index = cls(len(documents))
        if isinstance(documents, Documents):
            read, lengths = documents.read, documents.lengths_of
        else:
            listed = documents
            read, lengths = (lambda i: listed[i]), (lambda i: field_lengths(listed[i]))
        totals = [0] * len(FIELDS)
        for doc in range(len(documents)):
            totals = [total + n for total, n in zip(totals, lengths(doc), strict=True)]
        average = {name: max(1.0, total / max(1, len(documents))) for name, total in zip(FIELDS, totals, strict=True)}
        postings = index.postings
        shapes: dict[tuple[str, ...], tuple[str, ...]] = {}  # a few dozen field tuples, shared by every posting
        for doc in range(len(documents)):
            document = read(doc)
            weights: dict[str, float] = {}
            where: dict[str, list[str]] = {}
            for name, words in document.fields.items():
                if not words:
                    continue
                scale = FIELDS[name] / (1 - B + B * len(words) / average[name])
                for w in words:
                    weights[w] = weights.get(w, 0.0) + scale
                    fields = where.setdefault(w, [])
                    if not fields or fields[-1] != name:
                        fields.append(name)
            for w, weight in weights.items():
                shape = tuple(where[w])
                postings.setdefault(w, []).append((doc, weight, shapes.setdefault(shape, shape)))
        return index

    def cognates(self, word: str) -> list[str]:
        """The library's terms that a foreign word's cognate skeleton names (cognate_skeleton): the same
        skeleton, or one the other begins with, of at least MIN_COGNATE letters; at most three, rarest first."""
        mine = cognate_skeleton(word)
        if len(mine) < MIN_COGNATE:
            return []
        skeletons = self._skeletons
        # Theirs is where mine begins, and most of it ("nebul": "nebulosa"; not "astro": "astronauta")
        found = {term for i in range(max(MIN_COGNATE, math.ceil(MOST_OF_IT * len(mine))), len(mine) + 1)
                 for term in self._skeleton_terms.get(mine[:i], ())}
        start = bisect.bisect_left(skeletons, (mine, ""))
        for skeleton, term in skeletons[start:start + 20]:  # mine is where theirs begins
            if not skeleton.startswith(mine):
                break
            found.add(term)
        return sorted(found, key=lambda t: (-self.idf(t), t))[:3]

    @cached_property
    def _skeleton_terms(self) -> dict[str, list[str]]:
        """Skeleton -> the single-word terms with it (built at the first foreign prompt)."""
        out: dict[str, list[str]] = {}
        for term in self.postings:
            if PHRASE_JOIN not in term and term.isalpha() and len(term) >= MIN_COGNATE - 1:
                out.setdefault(cognate_skeleton(term), []).append(term)
        return out

    @cached_property
    def _skeletons(self) -> list[tuple[str, str]]:
        return sorted((skeleton, term) for skeleton, terms in self._skeleton_terms.items() for term in terms)

    def idf(self, term: str) -> float:
        """BM25's idf as a share of a word only one model has: 1.0 for that, whatever the library's size,
        so that one threshold serves a library of ten LoRAs and one of ten thousand."""
        known = self._idf.get(term)
        if known is None:
            df = len(self.postings.get(term, ()))
            size = max(self.size, MIN_LIBRARY)
            known = self._idf[term] = _idf(size, df) / _idf(size, 1) if df else 0.0
        return known

    def search(self, query: dict[str, float], min_score: float = 0.0) -> list[Hit]:
        """The (at most MAX_HITS) documents sharing a term with the query and scoring at least `min_score`, best
        first. A term worth almost nothing is not looked up, and only the documents kept are explained: the
        cost stays with the prompt's specific words, not with the library's size."""
        key = (tuple(sorted(query.items())), min_score)
        if self._last is not None and self._last[0] == key:
            return list(self._last[1])  # the plan asks again what the matching asked (its near misses)
        hits = self._search(query, min_score)
        self._last = (key, hits)
        return list(hits)

    def _search(self, query: dict[str, float], min_score: float) -> list[Hit]:
        weights = {t: self.idf(t) * w for t, w in query.items()}
        terms_used = [t for t, w in weights.items() if w >= NEGLIGIBLE]
        scores: dict[int, float] = {}
        for term in terms_used:
            weight = weights[term]
            for doc, tf, _fields in self.postings.get(term, ()):
                scores[doc] = scores.get(doc, 0.0) + weight * tf * (K1 + 1) / (tf + K1)
        # The best MAX_HITS only: beyond them a library holds near-twins of what was already judged.
        kept = dict(heapq.nlargest(MAX_HITS, ((d, sc) for d, sc in scores.items() if sc >= min_score),
                                   key=lambda item: (item[1], -item[0])))
        matched: dict[int, dict[str, list[str]]] = {doc: {} for doc in kept}
        for term in terms_used:
            for doc, _tf, fields in self.postings.get(term, ()):
                if doc in matched:
                    matched[doc][term] = list(fields)
        return sorted((Hit(doc, score, matched[doc]) for doc, score in kept.items()), key=lambda h: (-h.score, h.doc))


def _idf(size: int, df: int) -> float:
    return math.log(1 + (size - df + 0.5) / (df + 0.5))


def resemblance(one: Document, other: Document, index: SearchIndex) -> float:
    """How much two models say the same of themselves: the rarity-weighted share of the sparser one's words that
    the other has too (1.0: all of them). "rikishi xl" (captions: sumo, mawashi, topknot) resembles "Sumo Dohyo";
    a curling-stone LoRA does not resemble a hair-curling one, though both say "curling"."""
    mine, theirs = one.words, other.words
    shared = sum(index.idf(t) for t in mine & theirs)
    if shared < MIN_DESCRIBED:  # one rare word in common ("kelpie": a dog, a water horse) says nothing yet
        return 0.0
    return shared / min(sum(index.idf(t) for t in mine), sum(index.idf(t) for t in theirs))


FOREIGN_SHARE = 0.5
_LETTER_RUNS = re.compile(r"[^\W\d_]{3,}")
_OTHER_LANGUAGES = ("de", "fr", "es", "pt", "it", "nl", "sv", "pl")


@lru_cache(maxsize=1024)  # asked by the matching and again by the near misses of one prompt
def foreign_words(prompt: str) -> bool:
    """Whether most of a prompt's words are no English but another language's everyday words (a German, French
    or Spanish prompt), read against word frequencies, not a list."""
    zipf = _zipf()
    words = [w for w in _LETTER_RUNS.findall(prompt.lower()) if w not in NOISE]  # as written: "körper", not "korper"
    english = {w: zipf(w, "en", wordlist="small") for w in words}
    if not words or sum(f < EVERYDAY for f in english.values()) < FOREIGN_SHARE * len(words):
        return False  # mostly common English: the other languages' lists (30 MB) are not even loaded
    other = sum(max(zipf(w, language, wordlist="small") for language in _OTHER_LANGUAGES) > english[w] for w in words)
    return bool(other >= FOREIGN_SHARE * len(words))


@lru_cache(maxsize=10_000)
def _everyday_elsewhere(term: str) -> bool:
    zipf = _zipf()
    return bool(max(zipf(term, language, wordlist="small") for language in _OTHER_LANGUAGES) >= EVERYDAY)


@lru_cache(maxsize=10_000)
def _english_everyday(term: str) -> bool:
    return bool(_zipf()(term, "en", wordlist="small") >= EVERYDAY)


def _rare(word: str, foreign: bool) -> bool:
    """No everyday English or Spanish word, as written or stemmed ("porters" is a porter), nor, in a prompt of
    another language, one of that language."""
    return (max(word_frequency(word), word_frequency(stem(word))) < EVERYDAY
            and not (foreign and _everyday_elsewhere(word)))


EVERYDAY = 3.0  # zipf: a word met once in every thousand sentences or so
COMMON = 4.0  # zipf: a word of every other page ("brother", "captain", "old"; "Voss" is 3.2)


@lru_cache(maxsize=10_000)
def word_frequency(word: str) -> float:
    """How often everyday English or Spanish (the languages prompts mostly use) writes the word, as zipf."""
    zipf = _zipf()
    return float(max(zipf(word, language, wordlist="small") for language in ("en", "es")))


def agrees(hit: Hit, document: Document, index: SearchIndex, query: dict[str, float], foreign: bool,
           surface: Mapping[str, str]) -> bool:
    """The decision's second half (see the module's docstring): the words the LoRA names itself by carry
    it, and more than one accidental word does. In a `foreign` prompt (mostly not English, see
    `foreign_words`) the rest of an English document cannot agree: one rare word it names itself by in two of
    its fields ("Butoh-Tänzer" and "Ankoku Butoh", tagged butoh) is enough."""
    identity = hit.identity_terms
    evidence = {t: index.idf(t) * query.get(t, 0.0) for t in hit.matched}
    support = {t: e for t, e in evidence.items() if t not in identity and PHRASE_JOIN not in t}
    if sum(evidence[t] for t in identity) < MIN_IDENTITY:
        # Described, not named: several of the prompt's specific words in its description or captions.
        return len(support) >= 3 and sum(support.values()) >= MIN_DESCRIBED
    if any(PHRASE_JOIN in t and evidence[t] >= MIN_IDENTITY for t in identity):
        return True  # a phrase of its own ("impact frame", "kohaku amane"), not a broad one ("sci-fi")
    named = {t for t in identity if PHRASE_JOIN not in t and evidence[t] >= MIN_IDENTITY / 2}
    if len(named) >= 2 or named & document.whole:
        return True  # two of its own words, or the whole of a one-word trigger, concept or title
    if foreign and any(evidence[t] >= MIN_IDENTITY and len(IDENTITY & set(hit.matched[t])) >= 2
                       and not (_everyday_elsewhere(t) and _english_everyday(t)) for t in named):
        # A name, or a word of the prompt's language the LoRA names itself by ("Biblioteca Catenata"): it means
        # there what it means in the prompt; not a word English writes too ("luna": the moon, not "Luna Moth").
        return True
    if any(evidence[t] >= MIN_IDENTITY and len(IDENTITY & set(hit.matched[t])) >= 2
           and _rare(surface.get(t, t), foreign) for t in named):
        return True  # a word no everyday language writes has one meaning: an astrolabe, tempera, a mandrake
    return sum(support.values()) >= 2 * MIN_IDENTITY  # one word of its own, and its description tells of the same scene
