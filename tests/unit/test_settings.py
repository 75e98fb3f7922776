"""The editor's settings read on the Python side (services/server/settings.py)."""

import json
from pathlib import Path

from services.server.settings import SETTING_IDS, PackSettings, read_settings, settings_file


def write(tmp_path: Path, values: dict[str, object]) -> Path:
    path = settings_file(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"Comfy.TutorialCompleted": True, **values}))
    return path


def test_no_file_gives_the_defaults_api_only_users_get(tmp_path: Path) -> None:
    assert read_settings(settings_file(tmp_path)) == PackSettings()
    assert settings_file(tmp_path) == tmp_path / "default" / "comfy.settings.json"


def test_values_the_editor_stored_are_read(tmp_path: Path) -> None:
    path = write(tmp_path, {
        "IntelligentGeneration.Ollama.URL": "http://gpu-box:11434/",
        "IntelligentGeneration.Ollama.Model": "qwen3:4b",
        "IntelligentGeneration.Ollama.KeepAlive": "5m",
        "IntelligentGeneration.Lookup.Host": "https://civitai.red",
        "IntelligentGeneration.Lookup.Proxy": " socks5h://127.0.0.1:9050 ",
        "IntelligentGeneration.Save.NamingMode": "descriptive",
        "IntelligentGeneration.Generation.Quality": "ultra",
    })
    assert read_settings(path) == PackSettings(
        ollama_url="http://gpu-box:11434", ollama_model="qwen3:4b", ollama_keep_alive="5m",
        lookup_host="https://civitai.red", lookup_proxy="socks5h://127.0.0.1:9050",
        naming_mode="descriptive", quality="ultra",
    )


def test_unusable_values_fall_back_to_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, {
        "IntelligentGeneration.Ollama.URL": "ftp://somewhere",
        "IntelligentGeneration.Ollama.Model": "",
        "IntelligentGeneration.Lookup.Host": "https://evil.example",
        "IntelligentGeneration.Save.NamingMode": True,
        "IntelligentGeneration.Generation.Quality": "insane",
    })
    assert read_settings(path) == PackSettings()


def test_host_and_port_mean_http_as_with_ollama_host(tmp_path: Path) -> None:
    path = write(tmp_path, {"IntelligentGeneration.Ollama.URL": "127.0.0.1:11500", "IntelligentGeneration.Ollama.KeepAlive": 0})
    settings = read_settings(path)
    assert settings.ollama_url == "http://127.0.0.1:11500" and settings.ollama_keep_alive == "0"


def test_an_unusable_proxy_is_kept_so_lookups_fail_closed(tmp_path: Path) -> None:
    # Falling back to "no proxy" would send lookups directly; services/online/session.py refuses this value instead.
    path = write(tmp_path, {"IntelligentGeneration.Lookup.Proxy": "socks5://127.0.0.1:9050"})
    assert read_settings(path).lookup_proxy == "socks5://127.0.0.1:9050"


def test_broken_file_gives_defaults(tmp_path: Path) -> None:
    path = settings_file(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    assert read_settings(path) == PackSettings()
    path.write_text("[1, 2]")
    assert read_settings(path) == PackSettings()


def test_ids_are_the_frontends() -> None:
    ids = PackSettings().to_ids()
    assert list(ids) == list(SETTING_IDS.values())
    assert all(i.startswith("IntelligentGeneration.") for i in ids)
