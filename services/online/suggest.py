"""Where to find online what the library lacks (services/recommend/missing.py says what that is, offline).

- `search_candidates()` (the Model Library's Find models online, and `python -m services download --search`)
  goes online through the hardened session (services/online/session.py), and only when asked. A search carries one concept's canonical name from the
  pack's own public vocabulary (or one of the four style names), the model type and the base model:
  never the prompt, never a file name. CivitAI: `GET /api/v1/models?query=...&types=...&baseModels=...
  &sort=Highest Rated`; Hugging Face: `GET /api/models?search=...&filter=...`, then
  `GET /api/models/{repo}?blobs=true` for the few compatible repositories' files and hashes.

Candidates are ranked (RANKING): fit to the concept 4, compatibility with the family 3 (the exact
base model 3, the family 2.4; other families are left out), popularity 2 (log of downloads, 1
million = full), file size 1 (smaller is better, relative to what is usual for the kind); a file
that is not .safetensors / .gguf loses 3. Each is shown with name, base model, size, licence and
page, and with the inputs the Download Model node needs for it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from ..library import base_model as bases
from ..library.model_records import MAX_NAME, SHA256, clean_float, clean_int, clean_list, clean_text
from ..text.vocabulary import CONCEPTS, STYLES, concepts_in, fold
from .download_target import PICKLE_SUFFIXES, SAFE_SUFFIXES, human_size, suffix_of
from .huggingface import valid_repo_id
from .licences import civitai_licence, hf_licence, licence_text
from .session import HardenedSession, OnlineError

log = logging.getLogger(__name__)

SITES = ("civitai", "huggingface")
CIVITAI_TYPES = {"loras": "LORA", "checkpoints": "Checkpoint", "vae": "VAE"}
HF_FILTERS = {"loras": "lora", "checkpoints": "text-to-image", "vae": "vae"}
TYPICAL_BYTES = {"loras": 150_000_000, "checkpoints": 6_500_000_000, "vae": 330_000_000}
RANKING = {"fit": 4.0, "compatible": 3.0, "popularity": 2.0, "size": 1.0, "unsafe_format": -3.0}
SEARCH_LIMIT = 10  # results asked per site and concept
HF_DETAILS = 2  # Hugging Face repositories asked for their files, per concept


@dataclass
class Candidate:
    site: str
    name: str
    version: str
    base_model: str | None
    file_name: str
    size: int | None
    sha256: str | None
    safe_format: bool
    licence: dict[str, Any]
    nsfw: bool | None
    page: str
    downloads: int
    score: float
    why: str
    target: dict[str, Any]  # the Download Model node's inputs for this file

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "licence_text": licence_text(self.licence)}

    def line(self) -> str:
        site = "CivitAI" if self.site == "civitai" else "Hugging Face"
        target = ", ".join(f"{k} {v}" for k, v in self.target.items() if k != "source")
        flag = "" if self.safe_format else "; a pickle file (needs allow_pickle)"
        return (f"{self.name} ({site}, {self.base_model or 'base unknown'}, {human_size(self.size)}, licence: "
                f"{licence_text(self.licence)}{flag}) {self.page}; Download Model: {target}")


@dataclass
class Suggestion:
    concept: str
    kind: str
    base_model: str | None
    candidates: list[Candidate] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"concept": self.concept, "kind": self.kind, "base_model": self.base_model,
                "candidates": [c.to_dict() for c in self.candidates], "errors": self.errors,
                "requests": self.requests}

    def explain(self) -> list[str]:
        what = "LoRA" if self.kind == "loras" else self.kind.rstrip("s")
        head = f"Online candidates for '{self.concept}' ({what}, {self.base_model or 'any base'}):"
        if not self.candidates:
            return [head + " none found" + (f" ({'; '.join(self.errors)})" if self.errors else "") + "."]
        return [head] + [f"  {i}. {c.line()}" for i, c in enumerate(self.candidates, 1)] + \
            [f"  ({e})" for e in self.errors]


# --- online: searching ----------------------------------------------------------------------------

def searchable_names() -> dict[str, list[str]]:
    """The words a search may carry: the web UI offers only these."""
    return {"concepts": sorted(CONCEPTS), "styles": list(STYLES)}


def searchable(concept: str) -> bool:
    """Only the pack's own public words are ever searched for."""
    return concept in CONCEPTS or concept in STYLES


def search_candidates(
    concept: str,
    kind: str,
    family: str,
    base_model: str | None,
    session: HardenedSession,
    limit: int = 3,
    sites: Iterable[str] = SITES,
) -> Suggestion:
    if not searchable(concept):
        raise ValueError(f"only the pack's concept names are searched for, not {concept!r}")
    if kind not in CIVITAI_TYPES:
        raise ValueError(f"kind must be one of {', '.join(CIVITAI_TYPES)}")
    family = bases.family_of(base_model) if base_model and bases.family_of(base_model) != bases.UNKNOWN else family
    base = base_model or bases.DEFAULT_BASE_OF_FAMILY.get(family)
    suggestion = Suggestion(concept, kind, base)
    before = session.log.requests
    found: list[Candidate] = []
    for site in sites:
        try:
            if site == "civitai":
                found += civitai_search(concept, kind, family, base, session)
            elif site == "huggingface":
                found += _huggingface(concept, kind, family, base, session)
        except OnlineError as exc:
            suggestion.errors.append(f"{'CivitAI' if site == 'civitai' else 'Hugging Face'}: {exc}")
            log.warning("Intelligent Generation: %s search failed: %s", site, exc)
    suggestion.candidates = sorted(found, key=lambda c: (-c.score, c.name))[:limit]
    suggestion.requests = session.log.requests - before
    return suggestion


def _query(params: list[tuple[str, str]]) -> str:
    return urlencode(params, quote_via=quote)  # spaces as %20, as CivitAI's own links write them


def _fit(concept: str, texts: Iterable[Any]) -> float:
    """1 when the vocabulary reads the concept in the candidate's name, tags or trigger words; less for
    looser evidence (the site matched it somewhere we do not see)."""
    text = " , ".join(str(t) for t in texts if isinstance(t, str))
    if concept in concepts_in(text):
        return 1.0
    words = fold(concept).split()
    folded = f" {fold(text)} "
    return 0.7 if words and all(f" {w} " in folded for w in words) else 0.3


def _score(fit: float, exact: bool, downloads: int, size: int | None, kind: str, safe: bool) -> float:
    popularity = min(1.0, math.log10(downloads + 1) / 6)
    size_fit = 0.25 if size is None else 1 / (1 + size / TYPICAL_BYTES[kind])
    return round(RANKING["fit"] * fit + RANKING["compatible"] * (1.0 if exact else 0.8)
                 + RANKING["popularity"] * popularity + RANKING["size"] * size_fit
                 + (0.0 if safe else RANKING["unsafe_format"]), 3)


def _why(fit: float, base: str | None, exact: bool, downloads: int, size: int | None) -> str:
    named = "names the concept" if fit >= 1 else "mentions it" if fit >= 0.7 else "found by the site's search"
    made = f"made for {base}" + ("" if exact else " (same family)")
    return f"{named}; {made}; {downloads:,} downloads; {human_size(size)}"


def civitai_search(concept: str, kind: str, family: str, base: str | None,
                   session: HardenedSession) -> list[Candidate]:
    """CivitAI's model search for `concept` (a concept name; or a file's stem the user agreed to send,
    online/name_lookup.py), of one type and base model."""
    root = session.settings.civitai_url.rstrip("/")
    params = [("query", concept), ("types", CIVITAI_TYPES[kind])]
    if base:
        params.append(("baseModels", base))
    params += [("sort", "Highest Rated"), ("limit", str(SEARCH_LIMIT))]
    answer = session.get_json(f"{root}/api/v1/models?{_query(params)}")
    items = answer.data.get("items") if isinstance(answer.data, dict) else None
    out: list[Candidate] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            candidate = _civitai_candidate(item, concept, kind, family, base, root)
            if candidate:
                out.append(candidate)
    return out


def _civitai_candidate(item: dict[str, Any], concept: str, kind: str, family: str, base: str | None,
                       root: str) -> Candidate | None:
    model_id = clean_int(item.get("id"), 1, 2**53)
    versions = [v for v in item.get("modelVersions") or [] if isinstance(v, dict)]
    fitting = [v for v in versions if bases.family_of(bases.canonical_base(v.get("baseModel"))) == family
               and family != bases.UNKNOWN]
    version = next((v for v in fitting if bases.canonical_base(v.get("baseModel")) == base), None) or \
        next(iter(fitting), None)
    version_id = clean_int(version.get("id"), 1, 2**53) if version else None
    if model_id is None or version is None or version_id is None:
        return None
    files = [f for f in version.get("files") or [] if isinstance(f, dict) and isinstance(f.get("name"), str)
             and suffix_of(f["name"]) in SAFE_SUFFIXES + PICKLE_SUFFIXES]
    if not files:
        return None
    chosen = min(files, key=lambda f: (suffix_of(f["name"]) not in SAFE_SUFFIXES, not f.get("primary")))
    size_kb = clean_float(chosen.get("sizeKB"), 0.0, 2.0**40)
    size = round(size_kb * 1024) if size_kb else None
    hashes = chosen.get("hashes") if isinstance(chosen.get("hashes"), dict) else {}
    sha = str(hashes.get("SHA256") or "").lower() if isinstance(hashes, dict) else ""
    stats = item.get("stats") if isinstance(item.get("stats"), dict) else {}
    downloads = clean_int(stats.get("downloadCount") if isinstance(stats, dict) else None, 0, 2**53) or 0
    version_base = bases.canonical_base(version.get("baseModel"))
    exact = version_base == base
    safe = suffix_of(chosen["name"]) in SAFE_SUFFIXES
    fit = _fit(concept, [item.get("name"), *clean_list(item.get("tags"), 50, 64),
                         *clean_list(version.get("trainedWords"), 30, 300)])
    return Candidate(
        site="civitai", name=clean_text(item.get("name"), MAX_NAME, html=True),
        version=clean_text(version.get("name"), MAX_NAME, html=True), base_model=version_base,
        file_name=clean_text(chosen["name"], 200), size=size, sha256=sha if SHA256.match(sha) else None,
        safe_format=safe, licence=civitai_licence(item),
        nsfw=item["nsfw"] if isinstance(item.get("nsfw"), bool) else None,
        page=f"{root}/models/{model_id}?modelVersionId={version_id}", downloads=downloads,
        score=_score(fit, exact, downloads, size, kind, safe), why=_why(fit, version_base, exact, downloads, size),
        target={"source": "civitai", "civitai_version": version_id},
    )


def _hf_base(tags: list[Any]) -> str | None:
    for tag in tags:
        if isinstance(tag, str) and tag.startswith("base_model:"):
            repo = tag.split(":")[-1]
            base = bases.canonical_base(repo)
            if base:
                return base
    return None


def _huggingface(concept: str, kind: str, family: str, base: str | None, session: HardenedSession) -> list[Candidate]:
    root = session.settings.hf_url.rstrip("/")
    params = [("search", concept), ("filter", HF_FILTERS[kind]), ("sort", "downloads"), ("direction", "-1"),
              ("limit", str(SEARCH_LIMIT))]
    answer = session.get_json(f"{root}/api/models?{_query(params)}")
    items = answer.data if isinstance(answer.data, list) else []
    out: list[Candidate] = []
    for item in items:
        if len(out) >= HF_DETAILS:
            break
        if not isinstance(item, dict):
            continue
        repo = valid_repo_id(item.get("id"))
        tags: list[Any] = item["tags"] if isinstance(item.get("tags"), list) else []
        repo_base = _hf_base(tags)
        if repo is None or repo_base is None or bases.family_of(repo_base) != family:
            continue
        info = session.get_json(f"{root}/api/models/{repo}?blobs=true", absent=(401, 404)).data
        if not isinstance(info, dict) or info.get("gated") or info.get("private"):
            continue
        files = []
        for sibling in info.get("siblings") or []:
            if not isinstance(sibling, dict):
                continue
            path = sibling.get("rfilename")
            lfs: dict[str, Any] = sibling["lfs"] if isinstance(sibling.get("lfs"), dict) else {}
            if isinstance(path, str) and suffix_of(path) in SAFE_SUFFIXES and SHA256.match(str(lfs.get("sha256", ""))):
                files.append((path.count("/"), clean_int(lfs.get("size"), 0, 2**50) or 0, path, str(lfs["sha256"])))
        if not files:
            continue
        _depth, size, path, sha = min(files)  # files at the top first, then the smallest
        downloads = clean_int(item.get("downloads"), 0, 2**53) or 0
        exact = repo_base == base
        fit = _fit(concept, [repo.replace("-", " ").replace("_", " "), *[t for t in tags if ":" not in str(t)]])
        out.append(Candidate(
            site="huggingface", name=repo, version=clean_text(info.get("sha"), 12), base_model=repo_base,
            file_name=path.rsplit("/", 1)[-1], size=size or None, sha256=sha, safe_format=True,
            licence=hf_licence(info), nsfw=None, page=f"{root}/{repo}", downloads=downloads,
            score=_score(fit, exact, downloads, size or None, kind, True),
            why=_why(fit, repo_base, exact, downloads, size or None),
            target={"source": "huggingface", "hf_repo": repo, "hf_file": path},
        ))
    return out
