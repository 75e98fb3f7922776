"""Preview images of models: the ones other tools leave next to a model file, found without any network.

Their names, from those tools' code: A1111's extra networks page looks for `<stem>.png`, `.preview.png`, `.jpg`,
`.preview.jpg`, `.jpeg`, `.preview.jpeg`, `.webp`, `.preview.webp` (and `.gif`); CivitAI Helper saves
`<stem>.preview.png`; Stability Matrix `<stem>.preview.jpeg`; LoRA Manager `<stem>.webp` and the `.preview.*`
forms (its videos, `.mp4`, are not images and are left out). A `.preview.*` file is one on purpose, so it wins
over a bare `<stem>.png`.
"""

from __future__ import annotations

import os

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
