"""Read a .safetensors header (8-byte little-endian length + JSON) without touching tensors."""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Real headers are well under this; a larger claim means a corrupt or hostile file.
MAX_HEADER_BYTES = 64 * 1024 * 1024
FIRST_READ = 16 * 1024  # within the kernel's read-ahead, so no extra disk reads


class HeaderError(ValueError):
    """The file is not a readable safetensors file."""


@dataclass
class SafetensorsHeader:
    tensors: dict[str, dict[str, Any]]
    metadata: dict[str, str] = field(default_factory=dict)
    header_size: int = 0

    @property
    def data_offset(self) -> int:
        """Where tensor bytes start: AutoV3 hashes from here."""
        return 8 + self.header_size


def read_header(path: str | Path) -> SafetensorsHeader:
    name = os.path.basename(path)
    try:
        with open(path, "rb") as f:
            file_size = os.fstat(f.fileno()).st_size
            data = f.read(FIRST_READ)  # most headers (LoRAs, small checkpoints) fit: one read
            size = _header_length(name, data[:8], file_size)
            if len(data) < 8 + size:
                data += f.read(8 + size - len(data))
    except OSError as exc:
        raise HeaderError(f"{name}: cannot read ({exc.strerror or exc})") from exc
    return parse_header(data, file_size, name)


def _header_length(name: str, prefix: bytes, file_size: int) -> int:
    if len(prefix) < 8:
        raise HeaderError(f"{name}: file is too short to be safetensors ({len(prefix)} bytes)")
    (size,) = struct.unpack("<Q", prefix)
    if size <= 1 or size > min(MAX_HEADER_BYTES, file_size - 8):
        raise HeaderError(f"{name}: header length {size} is not plausible; the file is corrupt")
    return int(size)


def parse_header(data: bytes, file_size: int, name: str = "file") -> SafetensorsHeader:
    """The header from the first bytes of a file of `file_size` bytes; HeaderError for anything malformed."""
    size = _header_length(name, data[:8], file_size)
    raw = data[8 : 8 + size]
    if len(raw) < size:
        raise HeaderError(f"{name}: truncated header ({len(raw)} of {size} bytes)")
    try:
        parsed = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise HeaderError(f"{name}: header is not valid JSON; the file is corrupt") from exc
    if not isinstance(parsed, dict):
        raise HeaderError(f"{name}: header is not a JSON object")
    metadata = parsed.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict):
        metadata = {}
    tensors = {str(k): v for k, v in parsed.items() if isinstance(v, dict)}
    _check_extent(name, tensors, 8 + size, file_size)
    return SafetensorsHeader(tensors=tensors, metadata={str(k): str(v) for k, v in metadata.items()}, header_size=size)


def _check_extent(name: str, tensors: dict[str, dict[str, Any]], data_start: int, actual: int) -> None:
    """A file cut short (interrupted download) has fewer bytes than its header promises; one with bytes
    after its last tensor is refused by the safetensors loader just the same."""
    end = 0
    for info in tensors.values():
        offsets = info.get("data_offsets")
        if isinstance(offsets, list) and len(offsets) == 2 and isinstance(offsets[1], int):
            end = max(end, offsets[1])
    if data_start + end > actual:
        raise HeaderError(
            f"{name}: truncated ({actual} bytes, header expects {data_start + end}); re-download it"
        )
    if data_start + end < actual:  # the safetensors loader refuses these too: never pick one
        raise HeaderError(
            f"{name}: {actual - data_start - end} bytes after the last tensor (the header expects "
            f"{data_start + end}); the file is damaged: re-download it"
        )
