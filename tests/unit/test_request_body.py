"""Route bodies: one plainly written JSON object, or the reason for a 400 (never a 500)."""
from __future__ import annotations

import pytest

from services.server.request_body import parse_object


@pytest.mark.parametrize("raw, reason", [
    (b"[" * 100_000 + b"]" * 100_000, "nested"),
    (b'{"a": ' * 30 + b"1" + b"}" * 30, "nested"),
    (b'{"a": NaN}', "NaN"),
    (b'{"a": Infinity}', "Infinity"),
    (b'{"a": 1, "a": 2}', "twice"),
    (b"[1, 2]", "object"),
    (b'"text"', "object"),
    (b"\xff\xfe", "JSON"),
    (b"{", "JSON"),
    (b'{"name": "' + b"x" * 9000 + b'"}', "longer"),
    (b" " * (300 * 1024), "larger"),
])
def test_malformed_bodies_have_a_reason(raw: bytes, reason: str) -> None:
    problem = parse_object(raw)
    assert isinstance(problem, str) and reason in problem


def test_a_plain_object_passes() -> None:
    assert parse_object(b'{"kind": "loras", "name": "a.safetensors", "n": [1, {"b": 2.5}]}') == {
        "kind": "loras", "name": "a.safetensors", "n": [1, {"b": 2.5}]}
