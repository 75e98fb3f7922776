"""The JSON bodies the pack's routes accept: one object, plainly written, or a reason for a 400.

`json.loads` alone lets through what other readers disagree on or choke on: NaN and Infinity (not JSON),
a key given twice (which one counts?), and nesting thousands deep (RecursionError: a 500 instead of a 400).
"""
from __future__ import annotations

import json
from typing import Any

MAX_BODY_BYTES = 256 * 1024  # the largest body any route needs is a few hundred bytes
MAX_DEPTH = 20
MAX_TEXT_BYTES = 8192  # names, hosts, comments (a rating's comment keeps 2,000 characters)


class BodyError(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise BodyError(f"the key {key[:40]!r} is given twice")
        found[key] = value
    return found


def _no_constant(name: str) -> Any:
    raise BodyError(f"{name} is not a JSON number")


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        raise BodyError(f"the body is nested more than {MAX_DEPTH} deep")
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return max((_depth(v, level + 1) for v in children), default=level)


def parse_object(raw: bytes) -> dict[str, Any] | str:
    """The object, or what is wrong with the body (the text of a 400)."""
    if len(raw) > MAX_BODY_BYTES:
        return f"the body is larger than {MAX_BODY_BYTES // 1024} KiB"
    try:
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
        _depth(value)
    except BodyError as exc:
        return str(exc)
    except RecursionError:
        return f"the body is nested more than {MAX_DEPTH} deep"
    except (UnicodeDecodeError, ValueError):
        return "the body must be JSON (UTF-8)"
    if not isinstance(value, dict):
        return "the body must be a JSON object"
    long = [k for k, v in value.items() if isinstance(v, str) and len(v.encode()) > MAX_TEXT_BYTES]
    if long:
        return f"{long[0][:40]} is longer than {MAX_TEXT_BYTES} bytes"
    return value
