"""Output file names: UTC timestamp + random hex, a prompt slug, a bare UUID4, or a custom pattern.

Names are ASCII and free of what Windows, macOS or Linux reject. Uniqueness does
not rest on luck: the writer links a finished file into place only under a name
that does not exist yet, and takes the next candidate from `candidates` if it does.
"""

from __future__ import annotations

import os
import re
import unicodedata
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path, PurePath

MODES = ("standard", "descriptive", "guid", "custom")
TOKENS = ("date", "time", "guid", "seed", "model", "slug", "counter")
DEFAULT_PATTERN = "{date}_{time}_{slug}_{counter}"
SLUG_WORDS = 6
SLUG_CHARS = 40
PART_CHARS = 120  # per folder or file name: room for a suffix and extension under every OS's 255
COUNTER = "{counter}"  # kept in a rendered template until a free number is known

_TOKEN = re.compile(r"\{([a-z0-9]+)(?::([^{}]*))?\}")
_UNSAFE = re.compile(r'[<>:"\\|?*\x00-\x1f\x7f]')
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}


def slugify(text: str) -> str:
    """ASCII words of the prompt, joined by '-', without weighting syntax or LoRA tags."""
    text = re.sub(r"<[^<>]*>", " ", text)  # [^<>]: a run of '<' is never rescanned
    text = re.sub(r":[-+]?(?:\d+(?:\.\d*)?|\.\d+)", " ", text)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    slug = "-".join(words[:SLUG_WORDS])[:SLUG_CHARS].strip("-")
    return slug or "image"


def fold(text: str) -> str:
    """ASCII as the file system will see it, with '/' for every separator. Names are checked after this:
    it is what turns U+2025 into '..' and U+FF0F into '/'."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().replace("\\", "/")


def _ascii(text: str) -> str:
    """One name: folded, and a separator the folding made is no separator."""
    return _UNSAFE.sub("_", fold(text).replace("/", "_"))


def safe_part(text: str) -> str:
    """One folder or file name that every OS accepts: ASCII, no reserved characters or device names."""
    text = _ascii(text).strip(" ")[:PART_CHARS].rstrip(". ")  # Windows drops trailing dots and spaces
    if text.startswith("."):
        text = "_" + text[1:]  # no hidden files
    if text.split(".")[0].lower() in _RESERVED:
        text = "_" + text
    return text


def _safe_counted(text: str) -> str:
    """`safe_part` for a name holding the counter placeholder, which must survive intact."""
    head, _, tail = text.partition(COUNTER)
    head = _ascii(head).lstrip(" ")[: PART_CHARS // 2]
    tail = _ascii(tail.replace(COUNTER, ""))[: PART_CHARS // 2].rstrip(". ")
    if head.startswith("."):
        head = "_" + head[1:]
    return head + COUNTER + tail


def check_relative(path: str, what: str) -> str | None:
    """Why `path` would leave the output folder (absolute, a drive, `..`), or None when it stays inside."""
    text = fold(path).strip()
    if text.startswith("/") or re.match(r"^[A-Za-z]:", text):
        return f"{what} {path!r} is absolute; give a path inside ComfyUI's output folder."
    if any(part.strip() == ".." for part in text.split("/")):
        return f"{what} {path!r} contains '..'; it must stay inside ComfyUI's output folder."
    return None


def safe_subfolder(path: str) -> str:
    """A checked subfolder (see `check_relative`) made safe part by part; '' for none."""
    if check_relative(path, "Subfolder"):
        raise ValueError(check_relative(path, "Subfolder"))
    parts = [safe_part(p) for p in fold(path).split("/") if p.strip() not in ("", ".")]
    return "/".join(p for p in parts if p)


def check_pattern(pattern: str) -> str | None:
    """Why a custom pattern cannot be used, or None."""
    problem = check_relative(pattern, "Name pattern")
    if problem:
        return problem
    text = fold(pattern).strip()
    if not text or text.endswith("/"):
        return f"The name pattern {pattern!r} has no file name; try {DEFAULT_PATTERN}"
    for match in _TOKEN.finditer(text):
        if match.group(1) not in TOKENS:
            return f"Unknown token {{{match.group(1)}}} in the name pattern; use {', '.join(TOKENS)}."
    if COUNTER in text.rsplit("/", 1)[0] and "/" in text:
        return "{counter} belongs in the file name, not in a folder name."
    try:
        sample = make_name("custom", "a cat", datetime(2001, 2, 3, 4, 5, 6, tzinfo=timezone.utc),
                           uuid.UUID(int=0), pattern, seed=1, model="m")
    except ValueError as exc:
        return str(exc)
    if not sample:
        return f"The name pattern {pattern!r} gives an empty file name."
    return None


def _token_value(name: str, arg: str | None, now: datetime, guid: uuid.UUID, prompt: str,
                 seed: int | None, model: str | None) -> str:
    if name == "date":
        fmt = arg or "%Y%m%d"
        if ".." in fmt:
            raise ValueError("A {date:...} format must not contain '..'.")
        return now.strftime(fmt)  # may contain '/', which makes folders by date
    if name == "time":
        return now.strftime(arg or "%H%M%S")
    if name == "guid":
        return guid.hex[: int(arg)] if arg and arg.isdigit() else str(guid)
    if name == "seed":
        return str(seed) if seed is not None else "noseed"
    if name == "model":
        return PurePath(model.replace("\\", "/")).stem if model else "nomodel"
    if name == "slug":
        return slugify(prompt)
    return COUNTER


def _render(pattern: str, now: datetime, guid: uuid.UUID, prompt: str, seed: int | None, model: str | None) -> str:
    def value(match: re.Match[str]) -> str:
        name, arg = match.group(1), match.group(2)
        if name not in TOKENS:
            raise ValueError(f"Unknown token {{{name}}} in the name pattern; use {', '.join(TOKENS)}.")
        text = _token_value(name, arg, now, guid, prompt, seed, model)
        # Only {date} may add folders; other values are one name each.
        return text if name in ("date", "counter") else fold(text).replace("/", "_")

    rendered = _TOKEN.sub(value, fold(pattern).strip())
    parts = [p for p in rendered.split("/") if p.strip() not in ("", ".")]
    if any(p.strip() == ".." for p in parts):
        raise ValueError("The name pattern must stay inside the output folder ('..' is not allowed).")
    safe = [_safe_counted(p) if COUNTER in p else safe_part(p) for p in parts]
    return "/".join(p for p in safe if p)


def make_name(mode: str, prompt: str = "", now: datetime | None = None, guid: uuid.UUID | None = None,
              pattern: str = "", seed: int | None = None, model: str | None = None) -> str:
    """A file stem (no extension). Only `custom` can make subfolders ('/') and keep `{counter}` open."""
    guid = guid or uuid.uuid4()
    if mode == "guid":
        return str(guid)
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    stamp = now.strftime("%Y%m%d_%H%M%S")
    if mode == "descriptive":
        return f"{stamp}_{slugify(prompt)}_{guid.hex[:8]}"
    if mode == "standard":
        return f"{stamp}_{guid.hex[:8]}"
    if mode == "custom":
        return _render(pattern, now, guid, prompt, seed, model)
    raise ValueError(f"Unknown naming mode '{mode}'; use one of {', '.join(MODES)}.")


def next_counter(folder: Path, template: str) -> int:
    """One more than the highest number already used by files named like `template` (as SaveImage counts)."""
    head, _, tail = PurePath(template).name.partition(COUNTER)
    found = re.compile(re.escape(head) + r"(\d+)" + re.escape(tail) + r"(\.[A-Za-z0-9]+)?$")
    try:
        names = os.listdir(folder / PurePath(template).parent)
    except OSError:
        return 1
    numbers = [int(m.group(1)) for m in map(found.match, names) if m]
    return max(numbers, default=0) + 1


def candidates(mode: str, folder: Path, prompt: str = "", now: datetime | None = None, pattern: str = "",
               seed: int | None = None, model: str | None = None) -> Iterator[str]:
    """Stems to try in order, endless; the writer takes the first one that is still free."""
    if mode != "custom":
        while True:
            yield make_name(mode, prompt, now)  # a fresh random id each time
    template = make_name(mode, prompt, now, None, pattern, seed, model)
    if COUNTER in template:
        number = next_counter(folder, template)
        while True:
            yield template.replace(COUNTER, f"{number:05d}")
            number += 1
    yield template
    while True:  # the pattern has no counter: keep it readable, add a random id on a clash
        yield f"{template}_{uuid.uuid4().hex[:8]}"
