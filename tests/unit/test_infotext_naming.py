import re
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

from services.records.infotext import build_infotext, parse_infotext
from services.records.naming import make_name, slugify


def test_infotext_layout_and_round_trip() -> None:
    text = build_infotext(
        "a cat, (detailed:1.2)", "blurry",
        {"steps": 20, "sampler": "euler_ancestral", "scheduler": "karras", "cfg": 7.0, "seed": 5, "width": 512, "height": 768},
        model_name="real, v5", model_hash="abcdef0123456789", loras=[("catEars", "0123456789ab", 0.65)], version="x 1",
    )
    lines = text.split("\n")
    assert lines[0] == "a cat, (detailed:1.2), <lora:catEars:0.65>"
    assert lines[1] == "Negative prompt: blurry"
    assert lines[2].startswith("Steps: 20, Sampler: Euler a, Schedule type: Karras, CFG scale: 7.0, Seed: 5, Size: 512x768")
    parsed = parse_infotext(text)
    assert parsed["settings"]["Model"] == "real, v5"  # a comma forces JSON quoting
    assert parsed["settings"]["Model hash"] == "abcdef0123"
    assert parsed["settings"]["Lora hashes"] == "catEars: 0123456789ab"
    assert parsed["settings"]["Hashes"] == {"model": "abcdef0123", "lora:catEars": "0123456789ab"}
    assert parsed["settings"]["Version"] == "x 1"  # the pair after the bare object is read too
    assert parsed["negative_prompt"] == "blurry"


def test_standard_and_descriptive_names() -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    guid = uuid.UUID("12345678-1234-4234-8234-123456789abc")
    assert make_name("standard", now=now, guid=guid) == "20260102_030405_12345678"
    assert make_name("descriptive", "Ünïcode <lora:x:1> (cat:1.2) on a roof!", now, guid) == (
        "20260102_030405_unicode-cat-on-a-roof_12345678"
    )
    assert make_name("guid", guid=guid) == str(guid)
    with pytest.raises(ValueError):
        make_name("weird")


def test_slug_is_safe_everywhere() -> None:
    slug = slugify('con/\\:*?"<>| 漢字 ' + "word " * 30)
    assert re.fullmatch(r"[a-z0-9-]+", slug) and len(slug) <= 40
    assert slugify("漢字") == "image"


@pytest.mark.parametrize("text", ["x／‥／‥／escape_{counter}", "／tmp／x_{counter}", "a\\..\\b", "‥/x", "x/︰/y",
                                  "ａ／‥／b", "C:x", "Ｃ：／x"])
def test_names_are_checked_after_the_normalisation_that_makes_them(text: str) -> None:
    from services.records.image_file import inside
    from services.records.naming import check_pattern, check_relative, safe_subfolder

    problem_subfolder, problem_pattern = check_relative(text, "Subfolder"), check_pattern(text)
    root = Path("/srv/out")
    for made in ([] if problem_subfolder else [safe_subfolder(text)]) + \
            ([] if problem_pattern else [make_name("custom", "p", pattern=text)]):
        assert inside(root / made, root), made  # whatever is not refused stays inside
        assert ".." not in made.split("/") and not made.startswith("/")
    if "‥" in text or "tmp" in text:
        assert problem_subfolder and problem_pattern


def test_the_write_itself_refuses_a_path_outside_the_output_folder(tmp_path: Path) -> None:
    from PIL import Image

    from services.records.image_file import SaveError, write_image, write_json

    root = tmp_path / "output"
    root.mkdir()
    with pytest.raises(SaveError, match="outside the output folder"):
        write_image(Image.new("RGB", (4, 4)), root, "../escape", {}, root=root)
    with pytest.raises(SaveError, match="outside the output folder"):
        write_json(root / "sub", "../../x", {}, root=root)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["output"]  # nothing written anywhere
    assert write_image(Image.new("RGB", (4, 4)), root / "a", "b", {}, root=root) == root / "a" / "b.png"
