"""A loopback fake of CivitAI's public API (v1) for tests, with the answers' real shapes.

    with FakeCivitai([civitai_version(sha, model_id=11, version_id=101)], {11: civitai_model(11)}) as fake:
        ... OnlineSettings(civitai_url=fake.url) ...
        fake.requests  # every request: method, path, query, body, headers

- GET  /api/v1/model-versions/by-hash/{hash}: the version with a file of that SHA-256 (any case),
  else 404 {"error": "Model not found"}
- POST /api/v1/model-versions/by-hash with a JSON list of up to 100 hashes: the known versions
- GET  /api/v1/models/{id}: the model, else 404 {"error": "No model with id N"}
- GET  /api/v1/model-versions/{id}: the version, else 404
- GET  /api/v1/models?ids=1,2&query=...&types=...&baseModels=...&sort=...: search over the models (name or tags
  contain the query), each with its versions (filtered to the base models asked for)
- GET  /api/download/models/{version id}: the version's file from `files`, with Range; 401 when the
  version is in `key_required` and the request lacks `Authorization: Bearer <api_key>`; a 307 to
  `storage` (a FileServer's URL) when set, as CivitAI redirects to its storage
Faults (429, 5xx, timeouts, HTML, oversize, redirects, malformed JSON, cut bodies) through `fail()`.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fakes.loopback import Fault, LoopbackApi, Raw, Request, file_answer

__all__ = ["FakeCivitai", "Fault", "Request", "civitai_model", "civitai_version", "version_for_file"]

BY_HASH = "/api/v1/model-versions/by-hash"
MODELS = "/api/v1/models/"
SEARCH = "/api/v1/models"
VERSIONS = "/api/v1/model-versions/"
DOWNLOAD = "/api/download/models/"


def civitai_version(
    sha256: str,
    model_id: int,
    version_id: int,
    name: str = "v1.0",
    model_name: str = "Test Model",
    model_type: str = "LORA",
    base_model: str = "SD 1.5",
    trained_words: list[str] | None = None,
    description: str | None = "<p>Version notes</p>",
    images: list[dict[str, Any]] | None = None,
    file_name: str | None = None,
    size_kb: float = 147_570.1,
) -> dict[str, Any]:
    """A model version as /model-versions/by-hash returns it (fields trimmed to what matters)."""
    return {
        "id": version_id,
        "modelId": model_id,
        "name": name,
        "createdAt": "2025-03-01T10:00:00.000Z",
        "updatedAt": "2025-03-02T10:00:00.000Z",
        "status": "Published",
        "publishedAt": "2025-03-01T12:00:00.000Z",
        "trainedWords": trained_words if trained_words is not None else ["test trigger"],
        "trainingStatus": None,
        "trainingDetails": None,
        "baseModel": base_model,
        "baseModelType": "Standard",
        "earlyAccessEndsAt": None,
        "earlyAccessConfig": None,
        "description": description,
        "uploadType": "Created",
        "usageControl": "Download",
        "air": f"urn:air:sd1:lora:civitai:{model_id}@{version_id}",
        "stats": {"downloadCount": 1234, "ratingCount": 0, "rating": 0, "thumbsUpCount": 321},
        "model": {"name": model_name, "type": model_type, "nsfw": False, "poi": False},
        "files": [
            {
                "id": version_id * 10,
                "sizeKB": size_kb,
                "name": file_name or f"{model_name.replace(' ', '_')}_{name}.safetensors",
                "type": "Model",
                "pickleScanResult": "Success",
                "pickleScanMessage": "No Pickle imports",
                "virusScanResult": "Success",
                "virusScanMessage": None,
                "scannedAt": "2025-03-01T10:05:00.000Z",
                "metadata": {"format": "SafeTensor", "size": None, "fp": None},
                "hashes": {
                    "AutoV1": "0123ABCD",
                    "AutoV2": sha256[:10].upper(),
                    "SHA256": sha256.upper(),
                    "CRC32": "DEADBEEF",
                    "BLAKE3": "AB" * 32,
                    "AutoV3": "0123456789AB",
                },
                "primary": True,
                "downloadUrl": f"https://civitai.com/api/download/models/{version_id}",
            }
        ],
        "images": images if images is not None else [],
        "downloadUrl": f"https://civitai.com/api/download/models/{version_id}",
    }


def version_for_file(data: bytes, model_id: int, version_id: int, file_name: str = "model.safetensors",
                     **fields: Any) -> dict[str, Any]:
    """A model version whose one file is `data`: its real SHA-256 and size, as CivitAI publishes them."""
    return civitai_version(hashlib.sha256(data).hexdigest(), model_id, version_id, file_name=file_name,
                           size_kb=round(len(data) / 1024, 1), **fields)


def example_image(prompt: str, steps: int = 25, cfg: float = 7.0, sampler: str = "DPM++ 2M Karras",
                  resources: list[dict[str, Any]] | None = None, size: str = "512x768") -> dict[str, Any]:
    return {
        "url": "https://image.civitai.com/x/y/width=512/1.jpeg",
        "nsfwLevel": 1,
        "width": 512,
        "height": 768,
        "hash": "U9Ex~M00",
        "type": "image",
        "hasMeta": True,
        "meta": {
            "prompt": prompt,
            "negativePrompt": "lowres",
            "steps": steps,
            "cfgScale": cfg,
            "sampler": sampler,
            "seed": 42,
            "Size": size,
            "Clip skip": "2",
            "resources": resources or [],
        },
    }


def civitai_model(model_id: int, name: str = "Test Model", model_type: str = "LORA",
                  tags: list[str] | None = None, description: str = "<p>A <b>test</b> model</p>") -> dict[str, Any]:
    """A model as /models/{id} returns it (its versions trimmed)."""
    return {
        "id": model_id,
        "name": name,
        "description": description,
        "allowNoCredit": True,
        "allowCommercialUse": ["Image"],
        "allowDerivatives": True,
        "allowDifferentLicense": True,
        "type": model_type,
        "minor": False,
        "sfwOnly": False,
        "poi": False,
        "nsfw": False,
        "nsfwLevel": 1,
        "availability": "Public",
        "cosmetic": None,
        "supportsGeneration": True,
        "stats": {"downloadCount": 5000, "favoriteCount": 0, "thumbsUpCount": 700, "thumbsDownCount": 1,
                  "commentCount": 12, "ratingCount": 0, "rating": 0, "tippedAmountCount": 3},
        "creator": {"username": "someone", "image": None},
        "tags": tags if tags is not None else ["style", "test"],
        "modelVersions": [],
    }


class FakeCivitai(LoopbackApi):
    def __init__(self, versions: list[dict[str, Any]] | None = None,
                 models: dict[int, dict[str, Any]] | None = None, files: dict[int, bytes] | None = None,
                 api_key: str | None = None, key_required: set[int] | None = None,
                 storage: str | None = None) -> None:
        super().__init__()
        self.versions = list(versions or [])
        self.models = dict(models or {})
        self.files = dict(files or {})  # version id -> the file's bytes
        self.api_key = api_key
        self.key_required = set(key_required or ())
        self.storage = storage
        self.images: dict[str, tuple[bytes, str]] = {}  # /images/{name} -> (bytes, content type): example images

    def respond(self, request: Request, body: Any) -> tuple[int, Any]:
        path, query = request.path, request.query
        if request.method == "GET" and path == SEARCH:
            return 200, self._search(query)
        if request.method == "GET" and path.startswith(VERSIONS) and path[len(VERSIONS):].isdigit():
            wanted = int(path[len(VERSIONS):])
            version = next((v for v in self.versions if v["id"] == wanted), None)
            return (200, version) if version else (404, {"error": f"No version with id {wanted}"})
        if request.method == "GET" and path.startswith("/images/") and path[len("/images/"):] in self.images:
            data, content_type = self.images[path[len("/images/"):]]
            return 200, Raw(data, content_type)
        if request.method == "GET" and path.startswith(DOWNLOAD) and path[len(DOWNLOAD):].isdigit():
            return self._download(int(path[len(DOWNLOAD):]), request)
        return super().respond(request, body)

    def _search(self, query: dict[str, list[str]]) -> dict[str, Any]:
        text = " ".join(query.get("query", [])).lower()
        types = {t.lower() for t in query.get("types", [])}
        bases = set(query.get("baseModels", []))
        ids = {int(i) for value in query.get("ids", []) for i in value.split(",") if i.strip().isdigit()}
        items = []
        for model_id, model in self.models.items():
            if ids and model_id not in ids:
                continue
            words = " ".join([model["name"], *model.get("tags", [])]).lower()
            if text and text not in words or types and model["type"].lower() not in types:
                continue
            versions = [v for v in self.versions if v["modelId"] == model_id and (not bases or v["baseModel"] in bases)]
            if versions:
                items.append({**model, "modelVersions": versions})
        return {"items": items, "metadata": {"totalItems": len(items), "currentPage": 1, "pageSize": len(items)}}

    def _download(self, version_id: int, request: Request) -> tuple[int, Any]:
        data = self.files.get(version_id)
        if data is None:
            return 404, {"error": f"No file for version {version_id}"}
        if version_id in self.key_required and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return 401, {"error": "Unauthorized",
                         "message": "The creator of this asset requires you to be logged in to download it"}
        if self.storage:
            location = f"{self.storage}/model/{version_id}/file.safetensors?X-Amz-Signature=abc"
            return 307, Raw(b"", "text/plain", {"Location": location})
        return file_answer(data, request)

    def __enter__(self) -> FakeCivitai:
        super().__enter__()
        return self

    def _by_hash(self, value: str) -> dict[str, Any] | None:
        wanted = value.upper()
        for version in self.versions:
            for f in version["files"]:
                if wanted in (f["hashes"].get("SHA256"), f["hashes"].get("AutoV2")):
                    return version
        return None

    def route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if method == "GET" and path.startswith(BY_HASH + "/"):
            version = self._by_hash(path[len(BY_HASH) + 1 :])
            return (200, version) if version else (404, {"error": "Model not found"})
        if method == "POST" and path == BY_HASH:
            if not isinstance(body, list) or len(body) > 100:
                return 400, {"error": "Expected a list of at most 100 hashes"}
            found = [v for v in (self._by_hash(str(h)) for h in body) if v]
            return 200, list({v["id"]: v for v in found}.values())
        if method == "GET" and path.startswith(MODELS):
            tail = path[len(MODELS) :]
            model = self.models.get(int(tail)) if tail.isdigit() else None
            return (200, model) if model else (404, {"error": f"No model with id {tail}"})
        return 404, {"error": "Not found"}

    def by_path(self, prefix: str) -> list[Request]:
        return [r for r in self.requests if r.path.startswith(prefix)]
