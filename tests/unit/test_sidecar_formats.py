"""Sidecars and CivitAI answers in the shapes the other tools and CivitAI really write.

Civitai Helper's `.civitai.info` is CivitAI's by-hash model-version answer as it came; Stability Matrix's
`.cm-info.json` is its ConnectedModelInfo; A1111's `<stem>.json` is its extra-networks user metadata.
CivitAI's example images hold several LoRAs each, named by AutoV2 in `resources`, by name in the prompt's
`<lora:…>` tags and by AutoV3 in `Lora hashes`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from services.library.sidecars import read_sidecars
from services.online.civitai import fields_from_version

SHA = "3f2a" + "0" * 60
AUTOV3 = "9c1d2e3f4a5b"


def civitai_version(model_type: str = "LORA", images: list[dict[str, Any]] | None = None,
                    **extra: Any) -> dict[str, Any]:
    """A by-hash answer, cut to the fields that matter here but in CivitAI's exact layout."""
    return {
        "id": 101, "modelId": 55, "name": "v2.0", "baseModel": "SDXL 1.0", "trainedWords": ["inkwash"],
        "description": "<p>v2: retrained on 40 more images, fixed the hands</p>",
        "model": {"name": "Ink Wash Painting", "type": model_type, "nsfw": False, "poi": False},
        "files": [{"name": "InkWash_xl_v2.safetensors", "type": "Model",
                   "hashes": {"AutoV1": "1a2b3c4d", "AutoV2": SHA[:10], "SHA256": SHA.upper(),
                              "CRC32": "ABCDEF01", "BLAKE3": "e" * 64, "AutoV3": AUTOV3.upper()}}],
        "images": images if images is not None else [],
        "stats": {"downloadCount": 1200},
        **extra,
    }


def example(prompt: str, **meta: Any) -> dict[str, Any]:
    return {"url": "https://image.example/1.jpeg", "nsfwLevel": 1,
            "meta": {"prompt": prompt, "steps": 28, "cfgScale": 6.5, "sampler": "DPM++ 2M Karras",
                     "Size": "832x1216", **meta}}


def sidecar(tmp_path: Path, suffix: str, data: dict[str, Any]) -> Any:
    model = tmp_path / "InkWash_xl_v2.safetensors"
    model.write_bytes(b"\0" * 16)
    (tmp_path / f"InkWash_xl_v2{suffix}").write_text(json.dumps(data))
    found, problems = read_sidecars(model)
    assert problems == [] and len(found) == 1
    return found[0]


def test_the_weight_is_this_loras_own_not_the_first_tag_of_the_prompt(tmp_path: Path) -> None:
    images = [example("ink wash mountains, <lora:add_detail:0.4>, <lora:InkWash_xl_v2:0.8>, inkwash"),
              example("<lora:epi_noiseoffset:0.5> <lora:InkWash_xl_v2:0.75> crane over a river")]
    info = sidecar(tmp_path, ".civitai.info", civitai_version(images=images))
    assert info.example_weight == 0.75  # the median of 0.8 and 0.75, never add_detail's 0.4


def test_a_checkpoint_takes_no_weight_from_its_examples_loras(tmp_path: Path) -> None:
    images = [example("portrait, <lora:add_detail:0.6>", **{"Clip skip": 2})]
    info = sidecar(tmp_path, ".civitai.info", civitai_version("Checkpoint", images))
    assert info.example_weight is None
    assert info.recommended == {"steps": 28, "cfg": 6.5, "sampler": "DPM++ 2M Karras", "clip_skip": 2,
                                "width": 832, "height": 1216}


def test_clip_skip_is_read_as_civitais_generator_writes_it(tmp_path: Path) -> None:
    images = [example("anime girl", clipSkip=2), example("anime boy", clipSkip=2), example("x", clipSkip=1)]
    info = sidecar(tmp_path, ".civitai.info", civitai_version("Checkpoint", images))
    assert info.recommended["clip_skip"] == 2


def test_the_models_description_wins_over_the_versions_changelog(tmp_path: Path) -> None:
    version = civitai_version()
    assert sidecar(tmp_path, ".civitai.info", version).description == \
        "v2: retrained on 40 more images, fixed the hands"  # all a by-hash answer has
    version["model"]["description"] = "<p>Soft <b>sumi-e</b> ink wash on rice paper.</p>"
    assert sidecar(tmp_path, ".civitai.info", version).description == "Soft sumi-e ink wash on rice paper."


def test_stability_matrix_keeps_the_users_own_title(tmp_path: Path) -> None:
    data = {"ModelId": 55, "ModelName": "Ink Wash Painting", "VersionName": "v2.0", "UserTitle": "my sumi-e",
            "BaseModel": "SDXL 1.0", "TrainedWords": ["inkwash"], "Tags": ["style"], "Nsfw": False,
            "Hashes": {"SHA256": SHA.upper()}, "ModelType": "LORA"}
    assert sidecar(tmp_path, ".cm-info.json", data).title == "my sumi-e"
    data["UserTitle"] = None
    assert sidecar(tmp_path, ".cm-info.json", data).title == "Ink Wash Painting v2.0"


def test_a1111_sd3_is_a_known_base(tmp_path: Path) -> None:
    data = {"description": "", "sd version": "SD3", "activation text": "inkwash", "preferred weight": 0.7}
    assert sidecar(tmp_path, ".json", data).base_model == "SD 3"


def test_civitai_weights_match_by_autov3_and_by_name_as_image_metadata_names_loras() -> None:
    by_autov3 = example("<lora:detail:0.3> <lora:renamed_by_uploader:0.9>",
                        **{"Lora hashes": f"detail: 0123456789ab, renamed_by_uploader: {AUTOV3}"})
    by_resource = example("a crane", resources=[
        {"type": "lora", "name": "detail", "weight": 0.3, "hash": "aaaaaaaaaa"},
        {"type": "lora", "name": "ink", "weight": 0.85, "hash": AUTOV3}])
    by_name = example("<lora:other:0.2> <lora:InkWash_xl_v2:0.8>")
    for images, weight in (([by_autov3], 0.9), ([by_resource], 0.85), ([by_name], 0.8)):
        fields, _ = fields_from_version(civitai_version(images=images), None, "https://civitai.example")
        assert fields["recommended_weight"] == weight


def test_civitai_nsfw_level_counts_where_the_flag_says_false() -> None:
    def nsfw(model: dict[str, Any], **version: Any) -> Any:
        fields, _ = fields_from_version(civitai_version(**version), model, "https://civitai.example")
        return fields["nsfw"]

    assert nsfw({"nsfw": False, "nsfwLevel": 31}) is True  # a recorded answer: flag false, level R to XXX
    assert nsfw({"nsfw": False, "nsfwLevel": 1}) is False
    assert nsfw({"nsfw": False, "nsfwLevel": 2}) is False  # PG-13 is shown on the SFW site
    assert nsfw({}, nsfwLevel=4) is True  # the version's own level, when the model is not fetched
