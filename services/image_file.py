"""Write images with text metadata, atomically, never overwriting an existing file."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

RECORD_KEY = "intelligent_generation"


class SaveError(OSError):
    """The image could not be written; the message names the folder and what to do."""


def png_chunks(
    record: dict[str, Any],
    infotext: str | None,
    graph: dict[str, Any] | None,
    extra_pnginfo: dict[str, Any] | None,
) -> dict[str, str]:
    """Text chunks in ComfyUI's layout (`prompt`, `workflow`) plus `parameters` and our record."""
    chunks: dict[str, str] = {}
    if graph is not None:
        chunks["prompt"] = json.dumps(graph)
    for key, value in (extra_pnginfo or {}).items():
        chunks[key] = json.dumps(value)
    if infotext:
        chunks["parameters"] = infotext
    chunks[RECORD_KEY] = json.dumps(record, ensure_ascii=False)
    return chunks


def write_png(image: Any, folder: Path, stem: str, chunks: dict[str, str], compress_level: int = 4) -> Path:
    """Write `image` (a PIL image) as `<folder>/<stem>.png`.

    The bytes go to a temporary file first and are linked into place only when
    complete, so a full disk never leaves half an image, and an existing file
    is never replaced.
    """
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for key, value in chunks.items():
        # iTXt keeps non-Latin-1 prompts intact; ComfyUI and A1111 read both kinds.
        info.add_itxt(key, value) if not value.isascii() else info.add_text(key, value)
    target = folder / f"{stem}.png"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".ig-", suffix=".png.part", dir=folder)
    except OSError as exc:
        raise SaveError(f"Cannot write into the output folder {folder.name!r}: {exc.strerror}. "
                        "Check its permissions and free space.") from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            image.save(f, format="PNG", pnginfo=info, compress_level=compress_level)
            f.flush()
            os.fsync(f.fileno())
        os.link(tmp, target)  # fails if the name exists: no overwrite, no race
    except FileExistsError:
        raise
    except OSError as exc:
        raise SaveError(f"Saving {target.name} failed: {exc.strerror or exc}. Nothing was written; "
                        "check free space and permissions of the output folder.") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return target


def read_png_text(path: str | Path) -> dict[str, str]:
    from PIL import Image

    with Image.open(path) as im:
        return {k: v for k, v in getattr(im, "text", {}).items() if isinstance(v, str)}
