"""Preview images of models: the ones other tools leave next to a model file, found without any network.

Their names, from those tools' code: A1111's extra networks page looks for `<stem>.png`, `.preview.png`, `.jpg`,
`.preview.jpg`, `.jpeg`, `.preview.jpeg`, `.webp`, `.preview.webp` (and `.gif`); CivitAI Helper saves
`<stem>.preview.png`; Stability Matrix `<stem>.preview.jpeg`; LoRA Manager `<stem>.webp` and the `.preview.*`
forms (its videos, `.mp4`, are not images and are left out). A `.preview.*` file is one on purpose, so it wins
over a bare `<stem>.png`.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .entries import ModelEntry

PREVIEW_SUFFIXES = (".preview.png", ".preview.jpeg", ".preview.jpg", ".preview.webp", ".webp", ".png", ".jpeg",
                    ".jpg", ".gif")
CONTENT_TYPES = {".png": "image/png", ".jpeg": "image/jpeg", ".jpg": "image/jpeg", ".webp": "image/webp",
                 ".gif": "image/gif"}
MAX_PREVIEW_BYTES = 32 * 1024 * 1024
BLUR_FROM = 4  # CivitAI's R and above (nsfwLevel 4 R, 8 X, 16 XXX) are shown blurred until clicked


def local_preview(model_path: str, present: frozenset[str] | None = None) -> str:
    """The file name of the preview image next to the model, or "". `present`: the names a directory listing
    found beside it (spares a stat per suffix)."""
    folder, _, file_name = model_path.rpartition(os.sep)
    stem = file_name.rsplit(".", 1)[0]
    for suffix in PREVIEW_SUFFIXES:
        name = stem + suffix
        if (name in present) if present is not None else os.path.isfile(os.path.join(folder, name)):
            return name
    return ""


def content_type(file_name: str) -> str | None:
    return CONTENT_TYPES.get(os.path.splitext(file_name)[1].lower())


def preview_image(entry: ModelEntry, cache_dir: str | Path) -> tuple[str, str] | None:
    """(path, content type) of a model's preview: the image another tool left beside it, else the example image
    a lookup kept for it; only a regular image file of a sane size, else None."""
    if entry.preview:
        image = os.path.join(os.path.dirname(entry.path), entry.preview)
    else:
        from .hashing import HashCache

        hashes = HashCache(cache_dir).get(entry.path)  # one row: thumbnails are asked one by one
        stored = stored_preview(cache_dir, hashes.sha256) if hashes else None
        if stored is None:
            return None
        image = stored[0]
    mime = content_type(image)
    try:
        st = os.stat(image)
    except OSError:
        return None
    if mime is None or not stat.S_ISREG(st.st_mode) or st.st_size > MAX_PREVIEW_BYTES:
        return None
    return image, mime


# Example images kept as previews (opt-in, the StorePreviews setting): in the cache folder, never beside the model.
PREVIEWS_FOLDER = "previews"
LEVELS = {"PG": 1, "PG-13": 2, "R": 4, "X": 8, "XXX": 16}  # CivitAI's nsfwLevel flags
SUFFIX_OF = {"image/png": ".png", "image/jpeg": ".jpeg", "image/webp": ".webp", "image/gif": ".gif"}


def stored_previews(cache_dir: str | os.PathLike[str]) -> dict[str, tuple[str, int]]:
    """SHA-256 -> (path, nsfwLevel) of every example image kept as a preview: one folder listing."""
    folder = os.path.join(cache_dir, PREVIEWS_FOLDER)
    try:
        names = os.listdir(folder)
    except OSError:
        return {}
    kept: dict[str, tuple[str, int]] = {}
    for name in names:
        sha, _, rest = name.partition(".")
        level, _, suffix = rest.partition(".")
        if len(sha) == 64 and level.isdigit() and "." + suffix in SUFFIX_OF.values():
            kept[sha] = (os.path.join(folder, name), int(level))
    return kept


def stored_preview(cache_dir: str | os.PathLike[str], sha256: str) -> tuple[str, int] | None:
    """(path, nsfwLevel) of the example image kept for a file's SHA-256, if one was kept."""
    return stored_previews(cache_dir).get(sha256)
