"""The pack in ComfyUI's editor: its real frontend in Debian's headless Chromium, against a real ComfyUI.

tests/browser/editor.mjs (playwright-core) plays a user once and records what the page showed; the
tests here judge those observations. The server has the tiny models plus a LoRA whose sidecar holds
markup, a truncated checkpoint, and a loopback CivitAI that knows the markup LoRA. Screenshots are
left in the test's temporary folder (its path is printed) for a person to look at.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from comfy_server import ROOT, ComfyServer, demo_prompt, ensure_tiny_models, write_png
from fakes.civitai_server import FakeCivitai, civitai_model, civitai_version, version_for_file
from model_files import write_safetensors

from services.online import session as online
from services.server.settings import PackSettings

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PROBE = "probe_markup_xl.safetensors"  # SDXL: never recommended for the SD 1.5 template's prompt
BROKEN = "broken_download.safetensors"
COPY = "neon_city_sd15_copy.safetensors"  # a second copy of a tiny LoRA, for the duplicates panel
PIXEL_FILE = "PixelSprites_v3.safetensors"
# Markup that would run if any of it reached the page as HTML; it sets a flag the tests look for. No double
# quotes: inside JSON text (the Metadata Fetcher's metadata_json, shown by a preview node) it stays as is.
SCRIPT = "<script>globalThis.igPwned='{}'</script>"
IMG = "<img src=x onerror=globalThis.igPwned='{}'>"
TEMPLATES = sorted(p.stem for p in (ROOT / "example_workflows").glob("*.json"))
PACK_NODES = {"IntelligentPromptAnalyzer", "IntelligentAutoModelSelect", "IntelligentLoRARecommender",
              "IntelligentMetadataFetcher", "IntelligentSaveWithMetadata"}
DEMO_PROMPT = "photo of a lighthouse keeper's cat on the stairs"
NODE_SCRIPT_TIMEOUT_S = 900  # the whole browser session; a CPU run of each template takes about a minute


def escaped(markup: str) -> str:
    """As CivitAI sends text it shows literally: entities, which become the characters once read."""
    return markup.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny models (linked), a LoRA with markup in its sidecar, and an interrupted download."""
    tiny_models = ensure_tiny_models()
    root = tmp_path_factory.mktemp("browser-models")
    for kind in (k for k in tiny_models.iterdir() if k.is_dir()):
        (root / kind.name).mkdir()
        for item in kind.iterdir():
            (root / kind.name / item.name).symlink_to(item)
    (root / "loras" / PROBE).symlink_to(tiny_models / "loras" / "cat_ears_xl.safetensors")
    (root / "loras" / PROBE).with_suffix(".civitai.info").write_text(json.dumps({
        "baseModel": "SDXL 1.0",
        "trainedWords": [IMG.format("trigger")],
        "description": escaped(SCRIPT.format("description") + " " + IMG.format("description")) + " Markup probe",
        "model": {"name": "Markup <b>Probe</b>", "tags": [SCRIPT.format("tag")]},
        "images": [{"nsfwLevel": 8}],  # its preview (below) is marked X: shown blurred
    }))
    write_png((root / "loras" / PROBE).with_suffix(".preview.png"), 16, 16, {})  # CivitAI Helper's preview name
    with open(tiny_models / "checkpoints" / "tiny_photoreal_v1.safetensors", "rb") as f:
        (root / "checkpoints" / BROKEN).write_bytes(f.read(5_000_000))
    shutil.copyfile(tiny_models / "loras" / "neon_city_sd15.safetensors", root / "loras" / COPY)  # a real copy
    return root


@pytest.fixture(scope="module")
def pixel_lora(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """An SD 1.5 LoRA the loopback CivitAI offers for "pixel art", to download from the library tab."""
    keys = {"lora_unet_input_blocks_1_1_transformer_blocks_0_attn2_to_k.lora_down.weight": [64, 768]}
    return write_safetensors(tmp_path_factory.mktemp("offered") / "pixel.safetensors", keys).read_bytes()


@pytest.fixture(scope="module")
def civitai(models: Path, pixel_lora: bytes) -> Iterator[FakeCivitai]:
    sha = hashlib.sha256((models / "loras" / PROBE).read_bytes()).hexdigest()
    version = civitai_version(
        sha, model_id=77, version_id=707, model_name="Markup Probe <b>online</b>", base_model="SDXL 1.0",
        trained_words=[IMG.format("online-trigger")],
        description="<p>" + escaped(SCRIPT.format("online") + " " + IMG.format("online")) + " from CivitAI</p>",
    )
    model = civitai_model(77, "Markup Probe", tags=[SCRIPT.format("online-tag")],
                          description="<p>" + escaped(SCRIPT.format("online") + " " + IMG.format("online")) + "</p>")
    offered = version_for_file(pixel_lora, 8, 801, file_name=PIXEL_FILE, model_name="Pixel Sprites",
                               trained_words=["pixel sprite"])
    # Model 77's versions, newest first: an SD 1.5 one (another base: no update) and a newer SDXL one.
    newer = civitai_version("c" * 64, 77, 709, name="v2.0", model_name="Markup Probe", base_model="SDXL 1.0",
                            file_name="probe_markup_v2.safetensors")
    other_base = civitai_version("d" * 64, 77, 710, name="SD15", model_name="Markup Probe", base_model="SD 1.5")
    with FakeCivitai([other_base, newer, version, offered],
                     {77: model, 8: civitai_model(8, "Pixel Sprites", tags=["pixel art"])},
                     files={801: pixel_lora}) as fake:
        yield fake


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, models: Path, civitai: FakeCivitai) -> Iterator[ComfyServer]:
    base = tmp_path_factory.mktemp("browser-comfy")
    env = {online.CIVITAI_URL_ENV: civitai.url, online.HF_URL_ENV: civitai.url}
    with ComfyServer(base, models=models, env=env) as s:
        yield s
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def seen(tmp_path_factory: pytest.TempPathFactory, server: ComfyServer) -> dict[str, Any]:
    """One browser session over every scenario; its observations by scenario name."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: `make setup` installs Debian's chromium (as root), or set CHROMIUM")
    # IG_BROWSER_OUT keeps them somewhere else: pytest keeps only its last three temporary folders.
    out = Path(os.environ["IG_BROWSER_OUT"]) if os.environ.get("IG_BROWSER_OUT") else tmp_path_factory.mktemp("browser")
    print(f"\nbrowser screenshots: {out}")
    graph, workflow = demo_prompt(DEMO_PROMPT, size=64)  # what `make demo` sends, to drag its image back
    (image,) = server.output_files(server.run_prompt(graph, timeout=600, workflow=workflow))
    demo_image = image.relative_to(server.base / "output").as_posix()
    env = {**os.environ, "COMFY_URL": server.url, "OUT_DIR": str(out), "CHROMIUM": CHROMIUM,
           "PROBE_MODEL": PROBE, "COPY_MODEL": COPY, "BROKEN_CHECKPOINT": BROKEN, "DEMO_IMAGE": demo_image}
    run = subprocess.run(["node", str(ROOT / "tests" / "browser" / "editor.mjs")], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=NODE_SCRIPT_TIMEOUT_S)
    print(run.stdout)
    assert run.returncode == 0, f"editor.mjs failed:\n{run.stdout}\n{run.stderr}\nComfyUI:\n{server.log_tail()}"
    observations: dict[str, Any] = json.loads((out / "observations.json").read_text())
    observations["screenshots"] = sorted(p.name for p in out.glob("*.png"))
    return observations


def scenario(seen: dict[str, Any], name: str) -> dict[str, Any]:
    result: dict[str, Any] = seen[name]
    assert "error" not in result, f"scenario {name} failed in the browser:\n{result['error']}"
    return result


def test_extension_loads_as_one_bundle_without_errors(seen: dict[str, Any]) -> None:
    assert "IntelligentGeneration" in scenario(seen, "editor")["extensions"]
    assert seen["packFiles"] == [{"path": "/extensions/intelligent_generation/intelligent_generation.js", "status": 200}]
    # Errors thrown in our bundle carry its URL in their stack; the frontend's own (offline) errors do not.
    assert [e for e in seen["consoleErrors"] if "/extensions/intelligent_generation/" in e] == []


def test_settings_defaults_match_python_and_dialog_changes_reach_it(seen: dict[str, Any]) -> None:
    result = scenario(seen, "settings")
    defaults = PackSettings().to_ids()
    assert result["browserDefaults"] == defaults  # the frontend's defaults
    assert result["serverBefore"] == defaults  # no value stored yet: what an API-only user gets
    assert result["serverAfter"] == {**defaults, "IntelligentGeneration.Save.NamingMode": "guid",
                                     "IntelligentGeneration.Lookup.Proxy": "socks5://127.0.0.1:9050"}
    assert "not usable" in result["proxyWarning"] and "nothing is sent" in result["proxyWarning"]


def test_node_search_finds_every_pack_node_and_adds_one(seen: dict[str, Any]) -> None:
    result = scenario(seen, "nodeSearch")
    types = {node["type"] for node in result["nodes"]}
    assert PACK_NODES <= types
    for node in result["nodes"]:
        assert result["found"][node["title"]][0] == node["title"], node
    assert result["added"] == ["IntelligentPromptAnalyzer", "IntelligentSaveWithMetadata"]  # from the search


def test_new_nodes_start_from_the_settings_and_loaded_ones_keep_their_values(seen: dict[str, Any]) -> None:
    assert scenario(seen, "settings")["serverAfter"]["IntelligentGeneration.Save.NamingMode"] == "guid"
    assert scenario(seen, "nodeSearch")["newSaveNaming"] == "guid"
    # The templates, loaded after that change, keep "standard": checked with all their values above.
    saves = [values for name in TEMPLATES for node_type, values in scenario(seen, "templates")["runs"][name]["workflowValues"]
             if node_type == "IntelligentSaveWithMetadata"]
    assert saves and all(values[0] == "standard" for values in saves)


def test_every_template_runs_from_the_browser_with_image_and_explanations(seen: dict[str, Any]) -> None:
    result = scenario(seen, "templates")
    assert sorted(result["listed"]) == TEMPLATES
    for name in TEMPLATES:
        run = result["runs"][name]
        assert run["ended"] == {"state": "success", "message": None}, name
        if "IntelligentSaveWithMetadata" in run["types"]:
            saved = [image for image in run["images"] if image["type"] == "IntelligentSaveWithMetadata"]
            assert saved and saved[0]["width"] == 64 and "/view?" in saved[0]["src"], run["images"]
        explained = dict(run["explanations"])
        ours = {t for t in run["types"] if t.startswith("Intelligent")}
        assert set(explained) == ours - {"IntelligentSaveWithMetadata"}, name
        assert all(text.strip() for text in explained.values())
        # The explanation box is not a widget value: the saved workflow keeps the template's values.
        template = json.loads((ROOT / "example_workflows" / f"{name}.json").read_text())
        expected = [[n["type"], n.get("widgets_values") or []] for n in sorted(template["nodes"], key=lambda n: n["id"])
                    if n["type"].startswith("Intelligent")]
        assert run["workflowValues"] == expected, name


def test_explanations_never_cover_another_node_and_their_whole_text_is_reachable(seen: dict[str, Any]) -> None:
    """After every template ran: each explanation box grew its node only into free space, and a text longer
    than the box scrolls inside it."""
    for name, run in scenario(seen, "templates")["runs"].items():
        assert run["layout"], name
        for shown in run["layout"]:
            x, y, w, h = shown["bounds"]
            for other, (ox, oy, ow, oh) in shown["others"]:
                overlap = min(x + w, ox + ow) - max(x, ox), min(y + h, oy + oh) - max(y, oy)
                assert overlap[0] <= 0 or overlap[1] <= 0, f"{name}: {shown['type']} covers {other}"
            assert shown["clientHeight"] > 0, f"{name}: {shown['type']}'s explanation is not shown"
            reachable = shown["scrollHeight"] <= shown["clientHeight"] + 1 or shown["overflowY"] in ("auto", "scroll")
            assert reachable, f"{name}: {shown['type']}'s explanation is cut"


def test_the_demo_image_dragged_back_restores_the_template_as_it_ran(seen: dict[str, Any]) -> None:
    """`make demo` sends the template's layout with the prompt (as the editor does), so its image, dropped onto
    the editor, opens that layout with the prompt and size that ran, not a bare API graph."""
    dropped = {node["id"]: node for node in scenario(seen, "dragBack")["nodes"]}
    template = json.loads((ROOT / "example_workflows" / "intelligent_text_to_image.json").read_text())
    assert {i: (n["type"], n["pos"]) for i, n in dropped.items()} == {
        n["id"]: (n["type"], n["pos"]) for n in template["nodes"]}
    assert dropped[1]["widgets"][0] == DEMO_PROMPT and dropped[5]["widgets"][:2] == [64, 64]


def test_text_to_image_explains_its_key_decisions_on_the_nodes(seen: dict[str, Any]) -> None:
    explained = dict(scenario(seen, "templates")["runs"]["intelligent_text_to_image"]["explanations"])
    assert explained["IntelligentPromptAnalyzer"].startswith("Analysis (keywords): style realistic")
    assert explained["IntelligentAutoModelSelect"].startswith("Checkpoint: tiny_photoreal_v1.safetensors")
    assert "cat_ears_sd15.safetensors at " in explained["IntelligentLoRARecommender"]
    assert PROBE not in explained["IntelligentLoRARecommender"]


def test_failing_node_raises_a_toast_saying_what_to_do(seen: dict[str, Any]) -> None:
    result = scenario(seen, "errorToast")
    assert result["ended"]["state"] == "error"
    toast = result["toast"]
    assert toast.startswith("Auto Model Select failed")
    assert BROKEN in toast and "re-download" in toast


def test_library_tab_lists_searches_and_shows_markup_as_text(seen: dict[str, Any], models: Path) -> None:
    result = scenario(seen, "library")
    files = {f"{p.parent.name}/{p.name}" for p in models.glob("*/*.safetensors")}
    assert set(result["allItems"]) == files
    assert result["status"] == f"{len(files)} of {len(files)} models"
    assert result["searchFound"] == [f"loras/{PROBE}"] and result["searchStatus"].startswith("1 of ")
    assert result["title"] == "Markup <b>Probe</b>"
    details = result["details"]
    assert details["Description"] == f"{SCRIPT.format('description')} {IMG.format('description')} Markup probe"
    assert details["Trigger words"] == IMG.format("trigger")
    assert details["Tags"] == SCRIPT.format("tag")
    assert details["Hash lookup"] == "not hashed yet"
    assert result["elementsInList"] == 0 and result["pwned"] is None
    # The preview beside it, served by the pack's route, blurred until clicked (CivitAI marks it X).
    assert result["thumbBefore"] == "blurred" and result["thumbAfter"] == "shown" and result["thumbWidth"] == 16


def test_fetch_runs_with_live_progress_and_shows_civitai_text_inert(seen: dict[str, Any], civitai: FakeCivitai) -> None:
    result = scenario(seen, "fetch")
    assert result["status"] == 200 and result["requestBody"] == {"kind": "loras", "name": PROBE}
    assert result["events"] and result["events"][-1]["state"] == "done"
    assert any(text.startswith("Fetching metadata for Markup <b>Probe</b>") for text in result["progressTexts"])
    assert result["progressGone"]
    assert result["toast"].startswith("Metadata fetched for Markup <b>Probe</b>") and "1 found" in result["toast"]
    details = result["details"]
    assert details["Hash lookup"].startswith("found on civitai")
    assert SCRIPT.format("online") in details["civitai description"]
    assert IMG.format("online") in details["civitai description"]
    assert result["elementsInList"] == 0 and result["pwned"] is None
    assert civitai.requests, "the fetch reached the loopback CivitAI"


def test_saved_images_are_rated_with_stars_and_a_comment(seen: dict[str, Any]) -> None:
    result = scenario(seen, "rating")
    assert result["toast"].startswith("Rated 4 of 5") and result["stars"] == "★★★★☆"
    (stored,) = result["stored"]
    assert (stored["rating"], stored["comment"]) == (4, "sharp <b>enough</b>")
    assert stored["checkpoint"] == "tiny_photoreal_v1.safetensors"  # the reproduced image's record
    # The control is no widget value: the saved workflow keeps the template's values.
    template = json.loads((ROOT / "example_workflows" / "reproduce_from_image.json").read_text())
    (save,) = [n for n in template["nodes"] if n["type"] == "IntelligentSaveWithMetadata"]
    assert result["workflowValues"] == save["widgets_values"]


def test_library_tab_shows_statistics_and_exports_then_deletes_ratings(seen: dict[str, Any], models: Path) -> None:
    result = scenario(seen, "statsAndRatings")
    stats = result["stats"]
    checkpoints = len(list((models / "checkpoints").glob("*.safetensors")))
    assert stats["Checkpoints"].startswith(f"{checkpoints} (SD 1.5 ")
    assert stats["LoRAs"].startswith(str(len(list((models / "loras").glob("*.safetensors")))))
    assert {"Trigger words", "CivitAI metadata", "Never looked up", "Cache", "GPU"} <= set(stats)
    assert result["countBefore"].startswith("1 rated image")
    assert result["exportName"].endswith(".json") and [r["rating"] for r in result["exported"]] == [4]
    assert result["toast"].startswith("Ratings deleted") and result["storedAfter"] == []


def test_library_tab_lists_copies_and_confirms_them_by_hashing(seen: dict[str, Any], models: Path) -> None:
    result = scenario(seen, "duplicates")
    [possible] = [g for g in result["before"]["groups"] if COPY in g["text"]]
    assert possible["state"] == "possible" and "possible" in result["before"]["headline"]
    assert result["toast"].startswith("Duplicates") and "Nothing was deleted" in result["toast"]
    [confirmed] = [g for g in result["after"]["groups"] if COPY in g["text"]]
    size = (models / "loras" / COPY).stat().st_size
    assert confirmed["state"] == "confirmed" and "same SHA-256" in confirmed["text"]
    assert confirmed["text"].startswith("neon_city_sd15.safetensors")  # the copy with a sidecar stands for both
    assert "wasted" in result["after"]["headline"] and f"{size / 1024 / 1024:.1f} MB" in result["after"]["headline"]
    assert dict(result["badges"])[f"loras/{COPY}"][-1] == "copy"
    assert (models / "loras" / COPY).is_file()  # nothing deleted


def test_library_tab_offers_a_newer_version_for_the_same_base_model(seen: dict[str, Any],
                                                                    civitai: FakeCivitai) -> None:
    result = scenario(seen, "updates")
    assert result["body"] == {} and result["toast"].startswith("Update check")
    [probe] = [text for text in result["items"] if PROBE in text]  # a link to the same file is named first
    assert "v2.0 (version 709)" in probe and "710" not in probe
    assert result["question"] and "probe_markup_v2.safetensors" in result["question"]
    asked = [r for r in civitai.requests if r.path == "/api/v1/models" and "ids" in r.query]
    assert asked and all(r.query["ids"] == ["77"] for r in asked)


def test_a_search_by_name_says_what_it_sends_first(seen: dict[str, Any], civitai: FakeCivitai) -> None:
    result = scenario(seen, "nameSearch")
    assert '"neon_city_sd15"' in result["question"] and "SD 1.5" in result["question"]
    assert result["text"] == 'Nothing on CivitAI is named like "neon_city_sd15".'
    asked = [r for r in civitai.requests if r.query.get("query") == ["neon_city_sd15"]]
    assert len(asked) == 1 and asked[0].query["types"] == ["LORA"]


def test_library_tab_finds_and_downloads_a_model_after_asking(seen: dict[str, Any], civitai: FakeCivitai,
                                                               server: ComfyServer, pixel_lora: bytes) -> None:
    result = scenario(seen, "download")
    assert "portrait of my neighbour" in result["refused"] and not result["freeTextSent"]
    assert result["searchBody"] == {"concept": "pixel art", "kind": "loras", "base_model": None}
    assert result["candidates"] == ["Pixel Sprites"]
    assert PIXEL_FILE in result["question"] and "Licence" in result["question"]
    assert result["toast"].startswith(f"{PIXEL_FILE} downloaded and verified")
    assert result["events"] and result["events"][-1]["state"] == "done"
    assert result["listed"] == [f"loras/{PIXEL_FILE}"]
    assert (server.base / "models" / "loras" / PIXEL_FILE).read_bytes() == pixel_lora
    assert not list((server.base / "models" / "loras").glob("*.part"))
    assert result["pwned"] is None


def test_no_markup_ran_all_session_long(seen: dict[str, Any]) -> None:
    # After every scenario, the library fetch workflow's preview of CivitAI's answers included.
    assert seen["pwnedAtEnd"] is None
    fetched = dict(scenario(seen, "templates")["runs"]["library_metadata_fetch"]["explanations"])
    assert fetched["IntelligentMetadataFetcher"].startswith("Looked up")  # it went online (to the loopback)


def test_screenshots_for_a_person(seen: dict[str, Any]) -> None:
    shots = seen["screenshots"]
    assert not [s for s in shots if s.endswith("-failed.png")]
    for prefix in ("01-editor", "02-settings", "03-node-search", "04-node-added", "05-templates-", "06-ran-",
                   "07-error-toast", "08-library", "09-library-probe", "10-fetch-done", "11-rated", "12-stats",
                   "13-duplicates", "13-updates", "13-candidates", "14-downloaded"):
        assert any(s.startswith(prefix) for s in shots), prefix
