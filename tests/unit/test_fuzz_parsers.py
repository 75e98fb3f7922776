"""Property-based fuzzing (10,000+ cases): no input makes the header or sidecar readers raise anything
but their own error. Parsers are driven in memory so the cases stay fast; the file-reading wrappers
around them are covered by the library tests."""

from __future__ import annotations

import json
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.library.safetensors_header import HeaderError, parse_header
from services.library.sidecars import READERS

CASES = settings(max_examples=3500, deadline=None, suppress_health_check=list(HealthCheck))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=10,
)
tensor_infos = st.fixed_dictionaries({}, optional={
    "dtype": st.sampled_from(["F16", "F32", "BF16", "F8_E4M3", 7, None]),
    "shape": st.lists(st.integers(min_value=-2, max_value=4096), max_size=4) | json_values,
    "data_offsets": st.lists(st.integers(min_value=-10, max_value=10**12), max_size=3) | json_values,
})
headers = st.dictionaries(st.text(max_size=30), tensor_infos | json_values, max_size=6)
sidecar_keys = st.sampled_from([
    "baseModel", "trainedWords", "model", "files", "images", "stats", "description", "tags", "base_model",
    "model_name", "civitai", "usage_tips", "modelDescription", "sha256", "ModelName", "Tags", "TrainedWords",
    "BaseModel", "Stats", "Hashes", "activation text", "preferred weight", "sd version", "notes", "meta",
])


@CASES
@given(st.binary(max_size=300), st.integers(min_value=0, max_value=2**41))
def test_any_bytes_as_a_header(data: bytes, file_size: int) -> None:
    try:
        parse_header(data, file_size)
    except HeaderError:
        pass


@CASES
@given(headers, st.dictionaries(st.text(max_size=10), json_values, max_size=3) | json_values,
       st.integers(min_value=-64, max_value=10**6))
def test_any_tensor_table(table: dict[str, object], metadata: object, extra: int) -> None:
    header = dict(table)
    header["__metadata__"] = metadata
    raw = json.dumps(header).encode()
    data = struct.pack("<Q", len(raw)) + raw
    try:
        parsed = parse_header(data, len(data) + extra)
    except HeaderError:
        return
    assert all(isinstance(v, str) for v in parsed.metadata.values())


@CASES
@given(st.dictionaries(sidecar_keys, json_values, max_size=8))
def test_any_sidecar_content(data: dict[str, object]) -> None:
    for _suffix, reader in READERS:
        info = reader(data)
        assert all(isinstance(t, str) for t in info.tags + info.trigger_words)
        assert isinstance(info.description, str)


def test_deeply_nested_json_is_an_error_not_a_crash() -> None:
    raw = b"[" * 100_000 + b"]" * 100_000
    data = struct.pack("<Q", len(raw)) + raw
    try:
        parse_header(data, len(data))
    except HeaderError:
        pass
