import hashlib
import os
from pathlib import Path

from model_files import write_safetensors

from services import hashing
from services.hashing import HashCache, sha256_file


def test_whole_and_tail_in_one_pass(tmp_path: Path) -> None:
    data = os.urandom(3 * hashing.BUFFER_BYTES + 123)
    f = tmp_path / "x.bin"
    f.write_bytes(data)
    whole, tail = sha256_file(f, tail_from=hashing.BUFFER_BYTES + 7)
    assert whole == hashlib.sha256(data).hexdigest()
    assert tail == hashlib.sha256(data[hashing.BUFFER_BYTES + 7 :]).hexdigest()


def test_autov2_autov3_and_cache(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    f = write_safetensors(tmp_path / "m.safetensors", {"a": [64, 64]})
    data = f.read_bytes()
    header_len = int.from_bytes(data[:8], "little")
    cache = HashCache(tmp_path / "cache")
    h = cache.hashes(f)
    assert h.sha256 == hashlib.sha256(data).hexdigest()
    assert h.autov2 == h.sha256[:10]
    assert h.autov3 == hashlib.sha256(data[8 + header_len :]).hexdigest()[:12]
    calls = []
    monkeypatch.setattr(hashing, "sha256_file", lambda *a, **k: calls.append(a) or ("0" * 64, None))
    assert HashCache(tmp_path / "cache").hashes(f) == h  # survives a restart, no re-hash
    assert calls == []
    os.utime(f, ns=(1, 1))  # a changed file is hashed again
    HashCache(tmp_path / "cache").hashes(f)
    assert len(calls) == 1


def test_embedded_sshs_hash_is_used_for_autov3(tmp_path: Path) -> None:
    f = write_safetensors(tmp_path / "l.safetensors", {"a": [4]})
    assert HashCache(tmp_path / "c").hashes(f, embedded_autov3="ABCDEF0123456789".lower()).autov3 == "abcdef012345"


def test_progress_reaches_total(tmp_path: Path) -> None:
    f = tmp_path / "p.bin"
    f.write_bytes(os.urandom(2 * hashing.BUFFER_BYTES + 5))
    seen: list[tuple[int, int]] = []
    sha256_file(f, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (f.stat().st_size, f.stat().st_size)
