import hashlib
import os
from pathlib import Path

from model_files import write_safetensors

from services.library import hashing
from services.library.hashing import HashCache, sha256_file


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
    monkeypatch.setattr(hashing, "hash_file", lambda *a, **k: calls.append(a) or ("0" * 64, None, None))
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


def test_hash_many_in_threads_matches_hashlib_and_reports_problems(tmp_path: Path) -> None:
    from services.library.hashing import hash_many

    files = []
    for i in range(6):
        f = tmp_path / f"f{i}.bin"
        f.write_bytes(os.urandom(hashing.BUFFER_BYTES // 2 + i * 1000))
        files.append(f)
    missing = tmp_path / "gone.bin"
    cache = HashCache(tmp_path / "cache")
    cache.hashes(files[0])  # one already known
    seen: list[tuple[int, int]] = []
    outcomes = hash_many(cache, [(str(f), None) for f in [*files, missing]], progress=lambda d, t: seen.append((d, t)),
                         workers=3)
    assert [o.hashes.sha256 if o.hashes else None for o in outcomes] == [
        *(hashlib.sha256(f.read_bytes()).hexdigest() for f in files), None]
    assert [o.cached for o in outcomes] == [True, False, False, False, False, False, False]
    assert outcomes[-1].error is not None and "cannot read" in outcomes[-1].error
    to_read = sum(f.stat().st_size for f in files[1:])
    assert seen[-1] == (to_read, to_read)
    assert all(d <= t == to_read for d, t in seen)
    again = hash_many(HashCache(tmp_path / "cache"), [(str(f), None) for f in files], workers=3)
    assert all(o.cached for o in again)  # across a restart, nothing is read again


def test_blake3_is_added_when_the_package_is_there(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import sys
    import types

    class Blake3StandIn:  # the real package's interface: blake3(max_threads=...), update, hexdigest
        def __init__(self, max_threads: int = 1) -> None:
            self._h = hashlib.sha3_256()

        def update(self, data: bytes) -> None:
            self._h.update(data)

        def hexdigest(self) -> str:
            return self._h.hexdigest()

    f = tmp_path / "m.bin"
    f.write_bytes(os.urandom(3 * hashing.BUFFER_BYTES + 17))
    cache = HashCache(tmp_path / "cache")
    if not hashing.blake3_available():
        assert cache.hashes(f, with_blake3=True).blake3 is None  # absent package: SHA-256 alone
        monkeypatch.setitem(sys.modules, "blake3", types.SimpleNamespace(blake3=Blake3StandIn))
        monkeypatch.setattr(hashing, "blake3_available", lambda: True)
        expected = hashlib.sha3_256(f.read_bytes()).hexdigest()
    else:
        import blake3  # type: ignore[import-not-found]

        expected = blake3.blake3(f.read_bytes()).hexdigest()
    h = cache.hashes(f, with_blake3=True)  # a cached row without BLAKE3 is completed
    assert h.blake3 == expected and h.sha256 == hashlib.sha256(f.read_bytes()).hexdigest()
    assert HashCache(tmp_path / "cache").get(f) == h
