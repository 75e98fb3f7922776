"""The library index on disk and the bad input a real models folder holds."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from model_files import SD15_LORA, write_safetensors

from services.library import describe as describing
from services.library import scan as library
from services.library import workers as describe_workers
from services.library.entries import ModelEntry, StoredEntry, entry_values
from services.library.folder_watch import sidecar_names
from services.library.scan import folders_under, scan
from services.library.workers import describe_many


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the files describe() really reads."""
    calls: list[str] = []
    real = describing.describe

    def spy(kind: str, path: Path, name: str, *args: object) -> ModelEntry:
        calls.append(name)
        return real(kind, path, name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(describing, "describe", spy)
    library.forget_scans()
    return calls


def test_restart_reads_nothing_and_a_change_is_read_alone(models_root: Path, tmp_path: Path,
                                                          counted: list[str]) -> None:
    cache = tmp_path / "cache"
    first = scan(folders_under(models_root), cache)
    assert len(counted) == len(first.entries) > 5
    counted.clear()
    library.forget_scans()  # a new process: only the index on disk is left
    again = scan(folders_under(models_root), cache)
    assert counted == []
    assert [e.to_dict() for e in again.entries] == [e.to_dict() for e in first.entries]
    (models_root / "loras" / "catEars.civitai.info").write_text(json.dumps({"baseModel": "SD 1.5",
                                                                            "trainedWords": ["nekomimi"]}))
    changed = scan(folders_under(models_root), cache)
    assert counted == ["catEars.safetensors"]  # a sidecar edit re-reads its model, nothing else
    assert changed.find("loras", "catEars").trigger_words == ["nekomimi"]  # type: ignore[union-attr]
    (models_root / "loras" / "oilPaint.safetensors").unlink()
    counted.clear()
    library.forget_scans()
    assert scan(folders_under(models_root), cache).find("loras", "oilPaint") is None
    assert counted == []


def test_damaged_index_is_rebuilt(models_root: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    scan(folders_under(models_root), cache)
    (cache / "library.sqlite").write_bytes(b"not a database at all" * 100)
    for extra in cache.glob("library.sqlite-*"):
        extra.unlink()
    library.forget_scans()
    assert len(scan(folders_under(models_root), cache).entries) > 5


def test_bad_files_are_reported_and_the_rest_works(models_root: Path, tmp_path: Path) -> None:
    loras = models_root / "loras"
    (loras / "empty.safetensors").write_bytes(b"")
    (loras / "notjson.safetensors").write_bytes((20).to_bytes(8, "little") + b"{{{{not json at all!")
    (loras / "huge_claim.safetensors").write_bytes((2**40).to_bytes(8, "little") + b"{}")
    os.mkfifo(loras / "pipe.safetensors")  # would block a reader forever
    weird = os.fsencode(str(loras)) + b"/caf\xe9_latin1.safetensors"  # not UTF-8
    write_safetensors(Path(os.fsdecode(weird)), SD15_LORA)
    (loras / "loop").symlink_to(loras, target_is_directory=True)  # a symlink loop
    (loras / "sub").mkdir()
    write_safetensors(loras / "sub" / "catEars.safetensors", SD15_LORA)  # same stem, other folder
    (loras / "oilPaint.cm-info.json").write_text(json.dumps({"Tags": 42, "TrainedWords": {"x": 1}, "BaseModel": []}))
    lib = scan(folders_under(models_root), tmp_path / "cache")
    by_name = {e.name: e for e in lib.of_kind("loras")}
    for name in ("empty.safetensors", "notjson.safetensors", "huge_claim.safetensors"):
        assert not by_name[name].usable and by_name[name].problems[0].startswith("unreadable")
    assert "pipe.safetensors" not in by_name
    assert by_name[os.fsdecode(b"caf\xe9_latin1.safetensors")].family == "sd15"
    assert not any(n.startswith("loop/") for n in by_name)
    assert any("same file name" in p for p in by_name["sub/catEars.safetensors"].problems)
    assert by_name["oilPaint.safetensors"].usable and by_name["oilPaint.safetensors"].preferred_weight == 0.6
    library.forget_scans()
    assert len(scan(folders_under(models_root), tmp_path / "cache").of_kind("loras")) == len(by_name)
    # The clash is a fact of the folder, not of the file: once the other file is gone, so is the note,
    # in this process and after a restart.
    (loras / "catEars.safetensors").unlink()
    again = {e.name: e for e in scan(folders_under(models_root), tmp_path / "cache").of_kind("loras")}
    assert not any("same file name" in p for p in again["sub/catEars.safetensors"].problems)
    library.forget_scans()
    again = {e.name: e for e in scan(folders_under(models_root), tmp_path / "cache").of_kind("loras")}
    assert not any("same file name" in p for p in again["sub/catEars.safetensors"].problems)


def test_our_fetched_records_outrank_other_sidecars(models_root: Path, tmp_path: Path) -> None:
    from services.library.hashing import HashCache
    from services.library.model_records import apply_lookup, new_record, save_record

    cache = tmp_path / "cache"
    lora = models_root / "loras" / "catEars.safetensors"
    hashes = HashCache(cache).hashes(lora)
    fields = {"name": "Neko Ears", "base_model": "SD 1.5", "tags": ["nekomimi"], "trigger_words": ["neko ears"],
              "recommended_weight": 0.65}
    record = apply_lookup(new_record({"sha256": hashes.sha256, "autov2": hashes.autov2, "autov3": hashes.autov3}),
                          "civitai", True, fields, now=0.0, ttl_s=86400)
    library.forget_scans()
    before = scan(folders_under(models_root), cache).find("loras", "catEars")
    assert before is not None and before.trigger_words == ["cat ears"]
    save_record(cache, record)
    after = scan(folders_under(models_root), cache).find("loras", "catEars")  # a fetch refreshes the scan
    assert after is not None
    assert after.sources[0] == "intelligent_generation" and after.trigger_words == ["neko ears"]
    assert after.preferred_weight == 0.65 and "nekomimi" in after.tags
    (models_root / "loras" / "oilPaint.ig.json").write_text(json.dumps(record))  # the same format as a sidecar
    oil = scan(folders_under(models_root), cache).find("loras", "oilPaint")
    assert oil is not None and oil.sources[0] == "intelligent_generation" and oil.title.startswith("Neko Ears")


def library_jobs(models_root: Path) -> list[tuple[str, str, str, frozenset[str], int]]:
    return [(kind, path, name, sidecar_names(path, suffixes), size) for kind, folders in folders_under(models_root).items()
            for folder in folders for path, name, _, suffixes, size in library.model_files(folder)]


def test_worker_processes_describe_as_this_process_does(models_root: Path, caplog: pytest.LogCaptureFixture) -> None:
    jobs = library_jobs(models_root)
    assert len(jobs) >= 4
    here = [describing.describe(*job) for job in jobs]
    assert describe_many(jobs, workers=3, parallel_from=1) == here  # real `python -m services.library.workers`
    assert "describe worker" not in caplog.text  # the workers did it, not this process after they failed


def test_a_failing_worker_leaves_its_files_to_this_process(models_root: Path, monkeypatch: pytest.MonkeyPatch,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    jobs = library_jobs(models_root)
    here = [describing.describe(*job) for job in jobs]
    monkeypatch.setattr(describe_workers.sys, "executable", "/bin/false")  # starts, then exits 1 at once
    assert describe_many(jobs, workers=2, parallel_from=1) == here
    assert "describe worker failed" in caplog.text
    monkeypatch.setattr(describe_workers.sys, "executable", "/nonexistent/python")  # cannot start
    assert describe_many(jobs, workers=2, parallel_from=1) == here
    assert "no describe worker" in caplog.text


def _search(lib: library.Library, words: str) -> list[str]:
    from services.library.search import query_terms

    index, _documents = lib.lora_search
    loras = lib.of_kind("loras")
    return [loras[hit.doc].name for hit in index.search(query_terms(words))]


def test_a_new_process_reads_the_stored_search_documents_and_finds_the_same(
        models_root: Path, tmp_path: Path, documents_made: list[str]) -> None:
    cache = tmp_path / "cache"
    first = scan(folders_under(models_root), cache)
    found = _search(first, "cat ears")
    assert found and len(documents_made) == len(first.of_kind("loras"))
    documents_made.clear()
    library.forget_scans()  # a new process
    again = scan(folders_under(models_root), cache)
    assert _search(again, "cat ears") == found
    assert documents_made == []


def test_a_changed_lora_and_other_code_get_new_documents(models_root: Path, tmp_path: Path,
                                                          documents_made: list[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    scan(folders_under(models_root), cache).lora_search  # noqa: B018 (built on first use)
    changed = next((models_root / "loras").glob("*.safetensors"))
    changed.with_name(changed.stem + ".ig.json").write_text(json.dumps({"name": "Quokka Selfies"}))
    documents_made.clear()
    library.forget_scans()
    again = scan(folders_under(models_root), cache)
    assert _search(again, "quokka") == [changed.name]
    assert documents_made == [changed.name]  # the others came from the index

    documents_made.clear()
    library.forget_scans()
    monkeypatch.setattr(library, "_document_version", lambda: "another reading of words")
    every = scan(folders_under(models_root), cache)
    every.lora_search  # noqa: B018
    assert len(documents_made) == len(every.of_kind("loras"))


def test_damaged_stored_documents_are_made_again(models_root: Path, tmp_path: Path,
                                                 documents_made: list[str]) -> None:
    import sqlite3

    cache = tmp_path / "cache"
    found = _search(scan(folders_under(models_root), cache), "cat ears")
    with sqlite3.connect(cache / "library.sqlite") as db:
        db.execute("UPDATE documents SET document = '{\"title\": 3'")  # cut short
        db.execute("UPDATE documents SET document = '[{\"nonsense\": []}, []]' WHERE rowid = 1")
    documents_made.clear()
    library.forget_scans()
    again = scan(folders_under(models_root), cache)
    assert _search(again, "cat ears") == found
    assert len(documents_made) == len(again.of_kind("loras"))


def test_a_restart_decodes_a_loras_metadata_only_when_it_is_read(models_root: Path, tmp_path: Path) -> None:
    """At 100,000 LoRAs a start must not decode every description: what a scan and a search read of every LoRA
    (kind, family, category, title) comes as columns, the rest when first asked for, equal to what was stored."""
    cache = tmp_path / "cache"
    first = {e.name: e.to_dict() for e in scan(folders_under(models_root), cache).entries}
    library.forget_scans()
    again = scan(folders_under(models_root), cache)
    assert all(isinstance(e, StoredEntry) and "_heavy" in e.__dict__ for e in again.entries)
    assert {e.name: (e.kind, e.family, e.title) for e in again.entries} == {
        name: (d["kind"], d["family"], d["title"]) for name, d in first.items()}
    assert all("_heavy" in e.__dict__ for e in again.entries)  # reading those decoded nothing
    cat = again.find("loras", "catEars")
    assert cat is not None and cat.tags == first["catEars.safetensors"]["tags"] and "_heavy" not in cat.__dict__
    assert {e.name: e.to_dict() for e in again.entries} == first
    assert again.entries == [ModelEntry.from_dict(d) for d in first.values()]  # equal to whole entries too


def test_a_damaged_stored_entry_keeps_its_file_and_says_so(models_root: Path, tmp_path: Path) -> None:
    import sqlite3

    cache = tmp_path / "cache"
    scan(folders_under(models_root), cache)
    with sqlite3.connect(cache / "library.sqlite") as db:
        db.execute("UPDATE entries SET heavy = '[\"cut short' WHERE name = 'catEars.safetensors'")
    library.forget_scans()
    cat = scan(folders_under(models_root), cache).find("loras", "catEars")
    assert cat is not None and cat.kind == "loras" and cat.tags == []
    assert "damaged" in cat.problems[0] and "Refresh" in cat.problems[0]


def test_an_index_of_the_earlier_layout_is_dropped_and_read_anew(models_root: Path, tmp_path: Path,
                                                                  counted: list[str]) -> None:
    """Before the light columns, a row held the whole entry as one JSON array (table `models`). Its rows carry
    an older ENTRY_VERSION, so they could not be used: the table is dropped (its space freed) and the files
    read again, once."""
    import sqlite3

    cache = tmp_path / "cache"
    first = scan(folders_under(models_root), cache)
    with sqlite3.connect(cache / "library.sqlite") as db:
        db.execute("CREATE TABLE models (key BLOB PRIMARY KEY, signature TEXT, entry TEXT)")
        db.executemany("INSERT INTO models VALUES (?, ?, ?)", [(e.path.encode(), "v23|old", json.dumps(entry_values(e)))
                                                                for e in first.entries])
        db.execute("DELETE FROM entries")
    counted.clear()
    library.forget_scans()
    again = scan(folders_under(models_root), cache)
    assert len(counted) == len(first.entries)
    assert [e.to_dict() for e in again.entries] == [e.to_dict() for e in first.entries]
    with sqlite3.connect(cache / "library.sqlite") as db:
        assert not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'models'").fetchone()
    counted.clear()
    library.forget_scans()
    scan(folders_under(models_root), cache)
    assert counted == []  # and once only
