"""What words mean in image prompts and model metadata: styles, media and concepts, in English and Spanish.

Prompts and model metadata are both read through this vocabulary, so that
"neon-drenched megacity" in a prompt meets "cyberpunk" in a LoRA's tags, and
"pintura al óleo" meets "oil painting". Phrases are matched on word
boundaries in lower-case text without accents.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

STYLES = ("realistic", "anime", "artistic", "3d")

# Canonical concept -> phrases that express it. A concept may imply a style (CONCEPT_STYLE).
CONCEPTS: dict[str, tuple[str, ...]] = {
    # media and styles
    "pixel art": ("pixel art", "pixelart", "pixel-art", "pixelated", "8-bit", "16-bit", "8bit", "16bit", "sprite",
                  "sprites", "retro game", "old console game", "arte pixelado", "pixel", "pxl art"),
    "watercolor": ("watercolor", "watercolour", "aquarelle", "acuarela", "watercolor painting"),
    "oil painting": ("oil painting", "oil paint", "oils", "oleo", "pintura al oleo", "oil on canvas", "old masters",
                     "classic oil"),
    "ink wash": ("ink wash", "inkwash", "sumi-e", "sumie", "sumi e", "chinese painting", "tinta china",
                 "ink wash painting", "brush and ink", "ink painting", "ink brush painting", "suibokuga", "suiboku",
                 "shuimo", "chinese ink", "east asian ink"),
    "ukiyo-e": ("ukiyo-e", "ukiyoe", "ukiyo e", "woodblock", "woodblock print", "japanese print", "edo print",
                "grabado japones", "hokusai", "hiroshige", "estampa japonesa", "grabado en madera",
                "estampa en madera", "great wave"),
    "line art": ("lineart", "line art", "coloring book", "coloring page", "clean lines", "outline drawing",
                 "dibujo lineal", "inkline"),
    "comic": ("comic book", "comic", "comics", "halftone", "western comic", "comic cover", "comic de superheroes"),
    "manga": ("manga", "screentone", "manga panel", "manga page"),
    "art nouveau": ("art nouveau", "mucha", "modernismo", "nouveau"),
    "stained glass": ("stained glass", "vitral", "vitrales", "leaded glass", "colored glass", "coloured glass",
                      "church window", "cathedral window", "rose window"),
    "paper cut": ("paper cut", "papercut", "papercraft", "layered paper", "kirigami", "papel recortado", "paper art",
                  "cut paper", "paper cutout", "paper cutouts", "cutout paper"),
    "vaporwave": ("vaporwave", "vapor wave", "synthwave", "outrun", "vapor dream", "retrowave", "internet aesthetic",
                  "pink and teal"),
    "concept art": ("concept art", "matte painting", "digital painting", "arte conceptual", "concept painter",
                    "production design", "environment design", "visual development", "matte painted", "keyframe art"),
    "surrealism": ("surreal", "surrealism", "surrealist", "melting clocks", "dali", "surrealismo", "dreamlike"),
    "impressionism": ("impressionist", "impressionism", "impresionista", "impresionismo", "monet"),
    "cyberpunk": ("cyberpunk", "cyber punk", "ciberpunk", "neon-drenched", "neon drenched", "neon alley",
                  "neon-lit city", "neon city", "cybernetic", "neonfuture", "neon future", "dystopian high tech",
                  "high tech dystopia", "high tech low life", "cyber city", "neon dystopia", "neon soaked",
                  "dystopian neon", "dystopian metropolis", "cyber samurai", "cyber ninja", "cyborg", "robotic arm",
                  "cybernetic implants", "dystopian city", "dystopian future", "futuristic dystopian"),
    "steampunk": ("steampunk", "steam punk", "brass goggles", "clockwork", "brass and steam", "retro-futurism"),
    "dark fantasy": ("dark fantasy", "gothic", "grimdark", "fantasia oscura", "grim gothic", "necromancer"),
    "claymation": ("claymation", "clay", "plasticine", "plastilina", "stop motion", "stop-motion", "clayworld",
                   "claymate"),
    "low poly": ("low poly", "lowpoly", "low-poly", "polygonal", "low polygon", "faceted 3d"),
    "isometric": ("isometric", "isometrico", "diorama", "cutaway"),
    "chibi": ("chibi", "super deformed", "big head"),
    "ghibli": ("ghibli", "studio ghibli", "miyazaki", "hand-painted background", "ghibli-inspired",
               "countryside anime", "totoro", "spirited away", "mononoke", "howl's moving castle",
               "kiki's delivery service"),
    "90s anime": ("90s anime", "1990s anime", "retro anime", "vhs anime", "90s anime style", "retro cel",
                  "anime from the 90s", "90s tv anime", "1990s tv anime", "old school anime",
                  "vintage anime", "classic anime", "1990s (style)"),
    "pixar 3d": ("pixar", "pixar style", "estilo pixar", "3d cartoon", "3d toon", "3dtoon", "toon render",
                 "dreamworks", "disney 3d"),
    "pvc figure": ("pvc", "pvc figure", "figurine", "anime figure", "action figure", "nendoroid", "figma",
                   "figura", "figura de accion"),
    "analog film": ("analog", "analog film", "film photo", "film grain", "kodak", "portra", "light leaks",
                    "slide film", "fujifilm", "35mm film", "pelicula analogica", "analog style"),
    # lighting
    "cinematic lighting": ("cinematic lighting", "dramatic lighting", "cinematic light",
                           "iluminacion cinematografica", "cinelight", "cine light"),
    "neon lighting": ("neon lighting", "neon lights", "neon glow", "neon rim", "neon light", "luces de neon"),
    "golden hour": ("golden hour", "hora dorada", "sun-kissed", "sunkissed", "warm sunset light", "evening sunlight",
                    "evening sun", "late afternoon sun", "late afternoon light", "magic hour", "setting sun",
                    "golden light", "warm evening light", "luz del atardecer", "sunset glow", "luz dorada",
                    "golden sunlight", "golden evening light", "low sun", "low evening sun", "just before sunset"),
    "god rays": ("god rays", "volumetric light", "volumetric lighting", "light rays", "sunbeams", "crepuscular rays",
                 "godrays"),
    # places and backgrounds
    "fantasy scenery": ("fantasy landscape", "fantasy scenery", "floating castle", "fantasy realm", "fantasy world"),
    "sci-fi city": ("scifi city", "sci-fi city", "megacity", "futuristic city", "mega city", "ciudad futurista"),
    "japanese street": ("japanese street", "shrine", "shrine town", "torii", "calle japonesa", "santuario"),
    "cozy interior": ("cozy room", "cozy interior", "cozy cafe", "cafe interior", "hygge", "cozy", "cosy", "snug",
                      "homey", "coffee shop interior", "acogedor", "acogedora"),
    "underwater": ("underwater", "coral reef", "scuba", "bajo el agua", "submarino", "under the sea", "deep blue",
                   "submarina", "bajo el mar", "beneath the sea", "beneath the waves", "under water", "scuba diver",
                   "buzo"),
    # clothing
    "kimono": ("kimono", "yukata", "quimono"),
    "techwear": ("techwear", "tech wear", "tactical streetwear", "tactical urban", "tactical fashion",
                 "tactical outfit"),
    "plate armor": ("plate armor", "full plate armor", "knight armor", "plate armour", "armadura", "armor", "armour"),
    "victorian dress": ("victorian dress", "victorian gown", "vestido victoriano", "victorian era gown",
                        "victorian era dress", "victorian style dress", "victorian style gown"),
    "school uniform": ("school uniform", "serafuku", "seifuku", "uniforme escolar"),
    "witch outfit": ("witch hat", "witch outfit", "sombrero de bruja", "witchcraft", "witch"),
    # poses
    "dynamic pose": ("dynamic pose", "action pose", "dancing", "fighting pose", "mid-air", "pose dinamica"),
    "looking back": ("looking back", "seen from behind", "view from behind", "viewed from behind", "back view",
                     "over shoulder", "over the shoulder", "mirando atras"),
    # effects and concepts
    "fire magic": ("fire magic", "pyromancy", "fireball", "fire spell", "magia de fuego", "conjuring flames",
                   "conjuring fire", "casting fire", "magic flames", "magical flames", "flame magic",
                   "llamas magicas", "hechizo de fuego", "bola de fuego", "fire in her hands", "fire in his hands",
                   "flames in her hands", "flames in his hands", "fuego magico", "magic fire"),
    "glowing eyes": ("glowing eyes", "glowing blue eyes", "glowing red eyes", "ojos brillantes", "glow eyes",
                     "eyes glowing", "luminous eyes", "shining eyes", "eyes emitting", "eyes that glow",
                     "glowing pupils", "glowing irises", "ojos resplandecientes", "ojos luminosos",
                     "ojos resplandecen", "ojos brillan", "ojos que brillan", "eyes glow", "eyes glowed",
                     "ojos le brillan", "le brillan los ojos", "ojos brillando"),
    "lightning": ("lightning", "electricity", "thunderbolt", "relampago", "relampagos", "lightning bolts"),
    "double exposure": ("double exposure", "doble exposicion", "two exposures", "multiple exposure", "superimposed",
                        "blended exposures", "two photos blended", "photos blended", "blended photos",
                        "images blended"),
    "tilt-shift": ("tilt-shift", "tilt shift", "tiltshift", "miniature effect", "fake miniature", "miniature faking",
                   "tilted focus", "tilted selective focus", "scale model look", "toy town", "toy model",
                   "model village", "miniature town", "miniature city", "looks like a miniature"),
    "mecha": ("mecha", "giant robot", "gundam", "mech", "robot pilot", "war robot", "humanoid robot", "giant mech",
              "battle robot", "robot de guerra", "mobile suit"),
    "dragon": ("dragon", "dragons", "wyvern", "dragones"),
    "food photography": ("food photography", "food photo", "fotografia gastronomica", "food shot",
                         "culinary photography", "food styling", "gastronomic photography", "dish photography",
                         "food pic", "food picture", "food photograph"),
    # detail enhancers' specialities
    "skin detail": ("skin texture", "detailed skin", "realistic skin", "pores", "pore", "skin pores",
                    "piel detallada"),
    "fur detail": ("fur", "fluffy", "pelaje", "fur detail", "furry texture"),
    "detailed eyes": ("detailed eyes", "beautiful eyes", "ojos detallados"),
    "hands": ("hands", "fingers", "manos"),
}

CONCEPT_STYLE: dict[str, tuple[str, float]] = {
    "pixel art": ("artistic", 3), "watercolor": ("artistic", 3), "oil painting": ("artistic", 3),
    "ink wash": ("artistic", 3), "ukiyo-e": ("artistic", 3), "line art": ("artistic", 1),
    "comic": ("artistic", 3), "manga": ("anime", 3), "art nouveau": ("artistic", 3),
    "stained glass": ("artistic", 3), "paper cut": ("artistic", 3), "vaporwave": ("artistic", 3),
    "concept art": ("artistic", 3), "surrealism": ("artistic", 3), "impressionism": ("artistic", 3),
    "claymation": ("3d", 3), "low poly": ("3d", 3), "isometric": ("3d", 2), "chibi": ("anime", 2),
    "ghibli": ("anime", 3), "90s anime": ("anime", 3), "pixar 3d": ("3d", 3), "pvc figure": ("3d", 4),
    "analog film": ("realistic", 3), "food photography": ("realistic", 3), "tilt-shift": ("realistic", 2),
    "double exposure": ("realistic", 1), "skin detail": ("realistic", 1),
}

# Words that mark a style directly (not concepts a LoRA should be chosen for).
STYLE_CUES: dict[str, dict[str, float]] = {
    "realistic": {
        "photo": 2, "photograph": 2, "photography": 2, "photorealistic": 3, "photoreal": 3, "realistic": 2, "real": 1,
        "realism": 2, "raw photo": 3, "dslr": 2, "35mm": 1, "50mm": 1, "85mm": 1, "lens": 1, "bokeh": 1,
        "hyperrealistic": 3, "hyper-realistic": 3, "national geographic": 2, "headshot": 2, "studio lighting": 1,
        "depth of field": 1, "cinematic": 0.5, "foto": 2, "fotografia": 2, "realista": 2, "retrato realista": 3,
        "documentary": 2, "candid": 1, "portrait photo": 3, "product photo": 1, "architectural photography": 3,
    },
    "anime": {
        "anime": 3, "1girl": 3, "1boy": 3, "2girls": 3, "2boys": 3, "waifu": 2, "kawaii": 1, "cel shading": 2,
        "cel-shaded": 2, "cel shaded": 2, "visual novel": 2, "key visual": 2, "score 9": 3, "score 8 up": 2,
        "solo": 0.5, "looking at viewer": 1, "upper body": 0.5, "best quality": 0.3, "masterpiece": 0.2,
        "anime style": 3, "japanese animation": 3, "japanese animated": 3, "estilo anime": 3, "doujin": 2,
        "booru": 2, "idol": 1, "shoujo": 2, "shonen": 2,
    },
    "artistic": {
        "painting": 2, "painted": 1, "illustration": 1.5, "art": 1, "artwork": 1, "sketch": 2, "drawing": 2,
        "pintura": 2, "ilustracion": 1.5, "dibujo": 2, "brushstrokes": 2, "brush strokes": 2, "canvas": 1,
        "storybook": 2, "fine art": 2, "poster": 1, "charcoal": 2, "pastel": 1, "gouache": 2, "fresco": 2,
        "engraving": 2, "etching": 2, "abstract": 2, "expressionist": 2, "artstation": 1, "paper texture": 2,
        "rice paper": 2, "mosaic": 2, "tapestry": 2, "print": 0.5,
    },
    "3d": {
        "3d": 3, "3d render": 3, "render": 2, "rendered": 2, "octane": 2, "octane render": 3, "blender": 2,
        "cycles": 1, "unreal engine": 3, "cgi": 3, "c4d": 2, "cinema 4d": 3, "ray tracing": 2, "3d model": 3,
        "en 3d": 3, "vray": 2, "subsurface scattering": 1, "toy": 1, "figure": 1, "volumetric fog": 0.5,
    },
}

# Broad words: they tell the style or category, never enough to choose a LoRA on their own.
GENERIC = {
    "anime", "realistic", "photorealistic", "realism", "photo", "photography", "3d", "3d render", "render", "art",
    "painting", "illustration", "style", "fantasy", "sci-fi", "scifi", "portrait", "portraits", "character",
    "original character", "oc", "girl", "boy", "cute", "retro", "traditional", "traditional media", "concept",
    "effect", "background", "scenery", "clothing", "pose", "detail", "detailed", "lighting", "japanese",
    "game", "monochrome", "vintage", "colorful", "moody", "night", "enhancer", "tool", "quality", "slider",
    "fix", "magic", "creature", "animal", "eyes", "water", "sea", "ocean", "city", "street", "landscape",
    "interior", "room", "architecture", "fashion", "futuristic", "dramatic", "film", "warm", "pattern", "craft",
    "poster", "ornate", "aesthetic", "pastel", "60s", "70s", "80s", "90s", "1990s", "2000s", "stylized", "toon",
    "cartoon", "base model", "cinematic",
    "2d", "artstyle", "skin", "horror", "mascot", "product", "game asset", "miniature", "atmosphere",
    "animation", "historical", "dress", "halloween", "medieval", "knight", "spell", "sunset", "glow", "backlight",
    "hand-painted", "silhouette", "streetwear", "anatomy", "1girl", "1boy", "solo", "simple background",
    "victorian", "brass", "gears", "polygon", "figure", "print", "ink", "church", "layered", "paper", "food",
    "robot", "action", "fighting", "shrine", "japan", "dark", "gothic", "neon", "glass", "underwater photography",
}

STOPWORDS = {
    "a", "an", "the", "of", "in", "on", "at", "with", "and", "or", "to", "by", "for", "from", "into", "over",
    "under", "is", "are", "very", "highly", "best", "high", "its", "his", "her", "their", "this", "that", "as",
    "de", "del", "la", "el", "los", "las", "un", "una", "y", "en", "con", "por", "al", "sobre", "junto", "su",
    "v1", "v2", "v3", "v4", "v5", "xl", "sd15", "sdxl", "pony", "il", "flux", "lora", "safetensors", "final",
}

# Media whose flat look detail enhancers would spoil.
FLAT_MEDIA = {"pixel art", "line art", "watercolor", "ink wash", "ukiyo-e", "vaporwave", "low poly", "chibi",
              "manga", "paper cut"}


_SEPARATORS = re.compile(r"[^a-z0-9()]+")  # hyphens too: "anime-style", "low-poly", "Pixar-like"
# Letters that no Unicode decomposition turns into ASCII: without this "weiß" would read "wei", "Finnmarksløpet"
# "finnmarkslpet".
_LETTERS = str.maketrans({"ß": "ss", "ẞ": "ss", "ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe",
                          "ð": "d", "Ð": "d", "þ": "th", "Þ": "th", "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "ı": "i"})
_CAMEL_LOWER = re.compile(r"([a-z])([A-Z]|(?<=[A-Za-z][a-z])[0-9])")  # "d20" stays a die, "lora2" splits
_CAMEL_UPPER = re.compile(r"([A-Z]+)([A-Z][a-z])")


def fold(text: str) -> str:
    """Lower-case ASCII words: accents removed, separators reduced to spaces, and the plural or British
    spelling of a vocabulary word read as that word ("watercolours" -> "watercolor")."""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text.translate(_LETTERS)).encode("ascii", "ignore").decode()
    words = _SEPARATORS.sub(" ", text.lower().replace("_", " ")).split()
    variants = _variants()
    return " " + " ".join([variants.get(w, w) for w in words]) + " "


_NOT_PLURALS = {"glasses"}  # eyewear, not glass


@lru_cache(maxsize=1)
def _variants() -> dict[str, str]:
    """Other spellings of the vocabulary's words -> the word: plurals, British -our, grey. Only words the
    vocabulary knows, and never a form that is a vocabulary word itself ("oils"). No -er/-re rule: the
    vocabulary has no centre or theatre, and "postre" (Spanish: dessert) is not a poster."""
    phrases = [p for concept, ps in CONCEPTS.items() for p in (concept, *ps)]
    phrases += [cue for cues in STYLE_CUES.values() for cue in cues]
    known = {w for p in phrases for w in _SEPARATORS.sub(" ", p.lower()).split()}
    variants: dict[str, str] = {}
    for word in sorted(known):
        if len(word) < 3 or not word.isalpha():
            continue
        spellings = {word}
        if word.endswith("or"):
            spellings.add(word[:-2] + "our")  # colour, armour
        spellings.add(word.replace("gray", "grey"))
        for spelling in spellings:
            plural = spelling[:-1] + "ies" if spelling.endswith("y") and spelling[-2] not in "aeiou" else (
                spelling + "es" if spelling.endswith(("s", "x", "ch", "sh")) else spelling + "s")
            for form in (spelling, plural):
                if form != word and form not in known and form not in _NOT_PLURALS:
                    variants.setdefault(form, word)
    return variants


# Broad words as folded text reads them too ("sci-fi" -> "sci fi").
GENERIC |= {fold(word).strip() for word in GENERIC}


def split_camel(text: str) -> str:
    """`PixelPerfectXL_v21` -> `Pixel Perfect XL v21`, so names read as words."""
    return _CAMEL_UPPER.sub(r"\1 \2", _CAMEL_LOWER.sub(r"\1 \2", text))


@lru_cache(maxsize=1)
def _phrase_index() -> tuple[dict[tuple[str, ...], str], int, frozenset[str]]:
    """Phrase (as words) -> concept, and the longest phrase length: matching looks up the text's n-grams."""
    index: dict[tuple[str, ...], str] = {}
    for concept, phrases in CONCEPTS.items():
        for phrase in (concept, *phrases):
            index.setdefault(tuple(fold(phrase).split()), concept)
    return index, max(len(k) for k in index), frozenset(k[0] for k in index)


@lru_cache(maxsize=1)
def _cue_index() -> tuple[dict[tuple[str, ...], list[tuple[str, float]]], int, frozenset[str]]:
    index: dict[tuple[str, ...], list[tuple[str, float]]] = {}
    for style, cues in STYLE_CUES.items():
        for cue, weight in cues.items():
            index.setdefault(tuple(fold(cue).split()), []).append((style, weight))
    return index, max(len(k) for k in index), frozenset(k[0] for k in index)


def _ngrams(words: list[str], longest: int, starts: frozenset[str]) -> list[tuple[str, ...]]:
    """The n-grams up to `longest` words that begin with a word some phrase begins with (`starts`),
    longest first (so the most specific phrase is reported), then in text order. Other n-grams
    cannot match: skipping them keeps indexing thousands of models cheap."""
    count = len(words)
    positions = [i for i, w in enumerate(words) if w in starts]
    return [tuple(words[i : i + n]) for n in range(longest, 0, -1) for i in positions if i + n <= count]


def concepts_in(text: str) -> dict[str, str]:
    """Canonical concepts found in text -> the phrase that matched (longest phrases first)."""
    return concepts_in_words(fold(text).split())


def concepts_in_words(words: list[str]) -> dict[str, str]:
    """As concepts_in, for text already folded and split (callers that fold once and ask several times)."""
    index, longest, starts = _phrase_index()
    found: dict[str, str] = {}
    for gram in _ngrams(words, longest, starts):
        concept = index.get(gram)
        if concept and concept not in found:
            found[concept] = " ".join(gram)
    return found


def words_in(text: str) -> list[str]:
    return content_words(fold(split_camel(text)).split())


def content_words(words: list[str]) -> list[str]:
    return [w for w in words if w not in STOPWORDS and len(w) > 1 and not w.isdigit()]


def style_scores(text: str) -> dict[str, float]:
    """Weighted style cues in the text; each cue counts once however often it appears."""
    return style_scores_words(fold(text).split())


def style_scores_words(words: list[str]) -> dict[str, float]:
    index, longest, starts = _cue_index()
    scores = dict.fromkeys(STYLES, 0.0)
    for gram in set(_ngrams(words, longest, starts)):
        for style, weight in index.get(gram, ()):
            scores[style] += weight
    for concept in concepts_in_words(words):
        if concept in CONCEPT_STYLE:
            style, weight = CONCEPT_STYLE[concept]
            scores[style] += weight
    return scores
