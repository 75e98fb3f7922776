"""A loopback fake of Hugging Face's model API for tests.

- GET /api/models/{owner}/{name}: the repository's info; an unknown (or private) repository gets
  401 {"error": "Repository not found"} as anonymous callers do. With `?blobs=true`, the files of
  `files[repo]` are listed as siblings with their LFS SHA-256 and size.
- GET /api/models?search=...&filter=...: the repositories whose id or tags contain the search and
  whose tags include every filter
- GET /{owner}/{name}/resolve/{revision}/{path}: a file of `files[repo]`, with Range; a 302 to
  `storage` (a FileServer's URL) when set, as Hugging Face redirects to its CDN
Faults through `fail()` (see fakes.loopback).
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import unquote

from fakes.loopback import Fault, LoopbackApi, Raw, Request, file_answer

__all__ = ["FakeHuggingFace", "Fault", "Request", "hf_model"]

PREFIX = "/api/models/"


def hf_model(repo_id: str, tags: list[str] | None = None, instance_prompt: str | None = "sks style",
             base_model: str = "stabilityai/stable-diffusion-xl-base-1.0") -> dict[str, Any]:
    card: dict[str, Any] = {"license": "openrail++", "base_model": base_model, "tags": ["lora"]}
    if instance_prompt is not None:
        card["instance_prompt"] = instance_prompt
    return {
        "_id": "65f0c0ffee0123456789abcd",
        "id": repo_id,
        "modelId": repo_id,
        "author": repo_id.split("/")[0],
        "sha": "a" * 40,
        "lastModified": "2025-01-01T00:00:00.000Z",
        "private": False,
        "disabled": False,
        "gated": False,
        "pipeline_tag": "text-to-image",
        "library_name": "diffusers",
        "tags": tags if tags is not None else ["diffusers", "lora", "text-to-image", "license:openrail++",
                                                "region:us"],
        "downloads": 4321,
        "likes": 87,
        "cardData": card,
        "siblings": [{"rfilename": "README.md"}, {"rfilename": "pytorch_lora_weights.safetensors"}],
        "spaces": [],
        "createdAt": "2024-12-01T00:00:00.000Z",
    }


class FakeHuggingFace(LoopbackApi):
    def __init__(self, repos: dict[str, dict[str, Any]] | None = None,
                 files: dict[str, dict[str, bytes]] | None = None, storage: str | None = None) -> None:
        super().__init__()
        self.repos = dict(repos or {})
        self.files = dict(files or {})  # repo -> path in the repository -> bytes
        self.storage = storage

    def respond(self, request: Request, body: Any) -> tuple[int, Any]:
        path, query = request.path, request.query
        if request.method == "GET" and path == "/api/models":
            text = " ".join(query.get("search", [])).lower()
            wanted = set(query.get("filter", []))
            found = [info for repo, info in self.repos.items()
                     if (text in repo.lower() or any(text in str(t).lower() for t in info.get("tags", [])))
                     and wanted <= set(info.get("tags", []))]
            return 200, found
        if request.method == "GET" and path.startswith(PREFIX) and path[len(PREFIX):] in self.repos:
            repo = path[len(PREFIX):]
            info = dict(self.repos[repo])
            if repo in self.files:
                blobs = query.get("blobs") == ["true"]
                info["siblings"] = [{"rfilename": name, **({"size": len(data), "lfs": {
                    "sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}}
                    if blobs else {})} for name, data in self.files[repo].items()]
            return 200, info
        owner, _, rest = path.lstrip("/").partition("/")
        name, _, rest = rest.partition("/resolve/")
        repo = f"{owner}/{name}"
        if request.method == "GET" and rest and repo in self.files:
            _revision, _, file = rest.partition("/")
            file = unquote(file)
            data = self.files[repo].get(file)
            if data is None:
                return 404, {"error": "Entry not found"}
            if self.storage:
                return 302, Raw(b"", "text/plain", {"Location": f"{self.storage}/xet/{repo}/{file}?Signature=x"})
            return file_answer(data, request)
        return super().respond(request, body)

    def __enter__(self) -> FakeHuggingFace:
        super().__enter__()
        return self

    def route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if method == "GET" and path.startswith(PREFIX):
            repo = self.repos.get(path[len(PREFIX) :])
            if repo:
                return 200, repo
            return 401, {"error": "Repository not found"}
        return 404, {"error": "Not found"}

    def by_path(self, prefix: str) -> list[Request]:
        return [r for r in self.requests if r.path.startswith(prefix)]
