"""Image files with generation metadata: PNG text chunks, or EXIF for JPEG and WebP; atomic writes.

PNG: ComfyUI's `prompt` and `workflow` chunks, A1111's `parameters` and our
record under RECORD_KEY. JPEG/WebP: the same values in EXIF, laid out as the
tools that read them expect: `key:value` text tags in the first IFD (ComfyUI's
WebP layout: its frontend reads every such tag; workflow in Make, as ComfyUI
writes it), the A1111 text in UserComment (type UNDEFINED, UNICODE + UTF-16BE,
written by piexif as A1111 writes it) and our record in ImageDescription.
The graph sits in DocumentName, not in Model as ComfyUI puts it:
sd-prompt-reader `json.loads` the Model tag and fails on anything but JSON.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

RECORD_KEY = "intelligent_generation"
EXTENSIONS = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}
FORMATS = tuple(EXTENSIONS)
EXIF_LIMIT = 65533  # bytes in a JPEG APP1 segment, "Exif\0\0" included (WebP has no such limit)
EXIF_IFD, USER_COMMENT = 0x8769, 0x9286
EXIF_TAGS = {"prompt": 0x010D, "workflow": 0x010F, RECORD_KEY: 0x010E}  # DocumentName, Make, ImageDescription
COMFY_TAGS = range(0x0100, 0x0111)  # where ComfyUI's own images hold `key:value` text (it counts down from Model)
UNICODE_PREFIX = b"UNICODE\0"
# What gives way first when JPEG's EXIF is full: the UI graph, the API graph, then our record's bulk.
RECORD_DETAILS = ("analysis", "reasons")  # the record's bulk: left out of it, the record stays
DROP_ORDER: tuple[str | tuple[str, ...], ...] = ("workflow", "prompt", RECORD_DETAILS, RECORD_KEY)
NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EMLINK}


class SaveError(OSError):
    """The image could not be written; the message names the folder and what to do."""


def png_chunks(
    record: dict[str, Any] | None,
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
    if record is not None:
        chunks[RECORD_KEY] = json.dumps(record, ensure_ascii=False)
    return chunks


def user_comment(text: str) -> bytes:
    return UNICODE_PREFIX + text.encode("utf-16-be")


def read_user_comment(data: bytes) -> str:
    """EXIF UserComment to text: the UNICODE prefix means UTF-16 (A1111: big-endian; some tools: little)."""
    prefix, body = data[:8], data[8:]
    if prefix == UNICODE_PREFIX:
        # Mostly-ASCII text has its zero bytes first in big-endian UTF-16.
        big = body[0::2].count(0) >= body[1::2].count(0)
        return body.decode("utf-16-be" if big else "utf-16-le", errors="replace").rstrip("\0")
    if prefix == b"JIS\0\0\0\0\0":
        return body.decode("shift_jis", errors="replace").rstrip("\0")
    body = body if prefix in (b"ASCII\0\0\0", b"\0" * 8) else data
    return body.decode("utf-8", errors="replace").rstrip("\0")


def _exif(chunks: dict[str, str]) -> bytes:
    import piexif  # A1111's own EXIF library: Pillow writes UserComment as BYTE, which piexif readers reject

    first: dict[int, bytes] = {}
    for key, tag in EXIF_TAGS.items():
        if key in chunks:
            # EXIF text is ASCII: keep JSON escaped so nothing is lost.
            text = chunks[key] if chunks[key].isascii() else json.dumps(json.loads(chunks[key]))
            first[tag] = f"{key}:{text}".encode("ascii")
    tags: dict[str, dict[int, bytes]] = {"0th": first}
    if "parameters" in chunks:
        tags["Exif"] = {USER_COMMENT: user_comment(chunks["parameters"])}
    data: bytes = piexif.dump(tags)  # big-endian, matching the UTF-16BE comment, as A1111 writes it
    return data


def _lighter(chunks: dict[str, str], what: str | tuple[str, ...]) -> dict[str, str]:
    lighter = dict(chunks)
    if isinstance(what, tuple):
        record = json.loads(lighter[RECORD_KEY])
        record["left_out"] = [k for k in what if record.pop(k, None)]
        lighter[RECORD_KEY] = json.dumps(record, ensure_ascii=False)
    else:
        lighter.pop(what, None)
    return lighter


def exif_bytes(chunks: dict[str, str], limit: int | None = EXIF_LIMIT, name: str = "image") -> bytes:
    """EXIF holding the chunks; over `limit`, the least needed parts are left out, with a warning."""
    data = _exif(chunks)
    left_out: list[str] = []
    for what in DROP_ORDER:
        if limit is None or len(data) <= limit:
            break
        if (RECORD_KEY if isinstance(what, tuple) else what) in chunks:
            chunks = _lighter(chunks, what)
            left_out.append(" and ".join(what) if isinstance(what, tuple) else what)
            data = _exif(chunks)
    if limit is not None and len(data) > limit:
        left_out.append("parameters")
        data = b""
    if left_out:
        log.warning("Intelligent Generation: %s left out of %s's EXIF, which JPEG limits to 64 KiB; "
                    "save as PNG or WebP to keep everything.", ", ".join(left_out), name)
    return data


def _atomic_write(target: Path, write: Callable[[IO[bytes]], object]) -> Path:
    """Write to a temporary file beside `target`, then link it into place.

    A full disk or a failing encoder never leaves half a file, and an existing
    file is never replaced: the link fails with FileExistsError instead.
    """
    tmp = target.parent / f".ig-{uuid.uuid4().hex}.part"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask decides, as for SaveImage
    except OSError as exc:
        raise SaveError(f"Cannot write into the output folder {target.parent.name!r}: {exc.strerror or exc}. "
                        "Check its permissions and free space.") from exc
    try:
        # Write errors, a full disk's included, surface here or at close, before the name exists.
        # No fsync: SaveImage does none either, and it costs ~12 ms a file (bench/save.py).
        with os.fdopen(fd, "wb") as f:
            write(f)
        _link(tmp, target)
    except FileExistsError:
        raise
    except OSError as exc:
        raise SaveError(f"Saving {target.name} failed: {exc.strerror or exc}. Nothing was written; "
                        "check free space and permissions of the output folder.") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _link(tmp: Path, target: Path) -> None:
    try:
        os.link(tmp, target)  # fails if the name exists: no overwrite, no race
    except OSError as exc:
        if isinstance(exc, FileExistsError) or exc.errno not in NO_HARD_LINKS:
            raise
        # FAT and some network shares have no hard links; a rename after a check comes close.
        if target.exists():
            raise FileExistsError(errno.EEXIST, "File exists", str(target)) from exc
        os.rename(tmp, target)


def inside(path: Path, root: Path) -> bool:
    """Whether `path` stays in `root` once '..' and the like are resolved (as ComfyUI's SaveImage judges it;
    a symlink the user put inside the output folder is the user's own choice)."""
    base = os.path.abspath(root)
    return os.path.commonpath([base, os.path.abspath(path)]) == base


def write_image(image: Any, folder: Path, stem: str, chunks: dict[str, str], fmt: str = "png",
                quality: int = 90, compress_level: int = 4, root: Path | None = None) -> Path:
    """Write `image` (a PIL image) as `<folder>/<stem>.<ext>` with the chunks as metadata.

    `stem` may hold '/' for subfolders. Raises FileExistsError when the name is
    taken, SaveError when nothing could be written.
    """
    from PIL.PngImagePlugin import PngInfo

    if fmt not in EXTENSIONS:
        raise ValueError(f"Unknown image format {fmt!r}; use one of {', '.join(FORMATS)}.")
    target = _checked(folder / f"{stem}{EXTENSIONS[fmt]}", root)
    options: dict[str, Any] = {}
    if fmt == "png":
        info = PngInfo()
        for key, value in chunks.items():
            # iTXt keeps non-Latin-1 prompts intact; ComfyUI and A1111 read both kinds.
            info.add_text(key, value) if value.isascii() else info.add_itxt(key, value)
        options = {"pnginfo": info, "compress_level": compress_level}
    else:
        if chunks:
            options["exif"] = exif_bytes(chunks, EXIF_LIMIT if fmt == "jpeg" else None, target.name)
        options["quality"] = quality
        if fmt == "webp" and quality >= 100:
            options["lossless"] = True
        if image.mode not in ("RGB", "L") and fmt == "jpeg":
            image = image.convert("RGB")
    save_format = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}[fmt]
    return _atomic_write(target, lambda f: image.save(f, format=save_format, **options))


def write_json(folder: Path, stem: str, data: dict[str, Any], root: Path | None = None) -> Path:
    """`<folder>/<stem>.json`, atomically, never replacing a file."""
    text = json.dumps(data, ensure_ascii=False, indent=2).encode()
    return _atomic_write(_checked(folder / f"{stem}.json", root), lambda f: f.write(text))


def _checked(target: Path, root: Path | None) -> Path:
    """The last check, on the very path about to be written: whatever made the name, it stays in `root`."""
    if root is not None and not inside(target, root):
        raise SaveError(f"{target.name!r} would be written outside the output folder; nothing was written.")
    return target


def read_metadata(path: str | Path) -> dict[str, str]:
    """The metadata of an image as text values by key, whatever the format: PNG text or EXIF."""
    from PIL import Image

    with Image.open(path) as im:
        found = {k: v for k, v in getattr(im, "text", {}).items() if isinstance(v, str)}
        if found or im.format == "PNG":
            return found
        exif = im.getexif()
        for tag in COMFY_TAGS:
            value = exif.get(tag)
            if isinstance(value, str) and ":" in value:
                key, _, text = value.partition(":")
                if key in EXIF_TAGS or key.lower() in EXIF_TAGS:
                    found[key.lower()] = text
        comment = exif.get_ifd(EXIF_IFD).get(USER_COMMENT)
        if isinstance(comment, bytes) and comment.strip(b"\0"):
            found["parameters"] = read_user_comment(comment)
        elif isinstance(comment, str) and comment:
            found["parameters"] = comment
        return found

