"""Example images kept as previews, on request: the first still image a model's CivitAI answer rates within the
user's limit, downloaded through the hardened session into the cache, where the library's previews find it."""

from __future__ import annotations

import os

from ..library.previews import MAX_PREVIEW_BYTES, PREVIEWS_FOLDER, SUFFIX_OF
from .session import HardenedSession, OnlineError


def first_example(images: object, max_level: int) -> dict[str, object] | None:
    """The first still image rated at most `max_level` (an unrated one counts as unknown: skipped)."""
    for image in images if isinstance(images, list) else []:
        if not isinstance(image, dict):
            continue
        level = image.get("nsfw_level")
        if isinstance(level, int) and 0 < level <= max_level and image.get("type") == "image":
            return dict(image)
    return None


def keep_example(session: HardenedSession, cache_dir: str | os.PathLike[str], sha256: str,
                 image: dict[str, object]) -> str:
    """Download one example image (through the hardened session, from a download host only, at most
    MAX_PREVIEW_BYTES, an image type) into the cache as `<sha256>.<level><suffix>`; written whole or not at all."""
    url, level = str(image["url"]), image["nsfw_level"]
    if not isinstance(level, int):
        raise OnlineError("unexpected", "the example image has no rating")
    response = session.open_download(url, from_download_host=True)
    try:
        suffix = SUFFIX_OF.get(response.headers.get("Content-Type", "").split(";")[0].strip().lower())
        if suffix is None:
            raise OnlineError("not_a_file", "the example image is not a PNG, JPEG, WebP or GIF")
        data = bytearray()
        for chunk in response.iter_content(64 * 1024):
            data += chunk
            if len(data) > MAX_PREVIEW_BYTES:
                raise OnlineError("too_large", f"the example image is over {MAX_PREVIEW_BYTES // 2**20} MB")
    finally:
        response.close()
    folder = os.path.join(cache_dir, PREVIEWS_FOLDER)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{sha256}.{level}{suffix}")
    partial = path + ".part"
    with open(partial, "wb") as f:
        f.write(data)
    os.replace(partial, path)
    return path
