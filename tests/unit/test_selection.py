import json
from pathlib import Path

import pytest
from model_files import SD15_LORA, write_safetensors

from services.library.scan import folders_under, scan
from services.recommend.analysis import analyze_keywords
from services.recommend.checkpoint import SelectionError, choose_checkpoint, recommend_parameters
from services.recommend.loras import plan_loras
from services.recommend.pipeline import recommend


def test_style_picks_matching_checkpoint(models_root: Path) -> None:
    lib = scan(folders_under(models_root))
    assert choose_checkpoint(lib, analyze_keywords("anime girl")).checkpoint == "animeMix_v2.safetensors"
    photo = choose_checkpoint(lib, analyze_keywords("raw photo of a man"))
    assert photo.checkpoint in ("realVision_v5.safetensors", "xl/juggerPhoto_xl.safetensors")
    assert "photo" in photo.reasons[0] or "real" in photo.reasons[0]


def test_pinned_checkpoint_and_missing_one(models_root: Path) -> None:
    lib = scan(folders_under(models_root))
    sel = choose_checkpoint(lib, analyze_keywords("anime"), pinned="realVision_v5.safetensors")
    assert sel.checkpoint == "realVision_v5.safetensors"
    with pytest.raises(SelectionError, match="not in the checkpoints folder"):
        choose_checkpoint(lib, analyze_keywords("anime"), pinned="nope.safetensors")


def test_empty_library_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(SelectionError, match="models/checkpoints"):
        choose_checkpoint(scan(folders_under(tmp_path)), analyze_keywords("a cat"))


def test_parameters_follow_family_and_aspect() -> None:
    portrait = recommend_parameters(analyze_keywords("portrait photo of a woman"), "sdxl")
    assert portrait["height"] > portrait["width"] and portrait["width"] % 64 == 0
    flux = recommend_parameters(analyze_keywords("a cat"), "flux")
    assert flux["cfg"] == 1.0
    assert recommend_parameters(analyze_keywords("a cat"), "sd15")["width"] == 512


def test_loras_only_from_the_checkpoint_family(models_root: Path) -> None:
    lib = scan(folders_under(models_root))
    plan = plan_loras(lib, analyze_keywords("photo of a cat with cat ears"), "sd15")
    names = [p.name for p in plan.loras]
    assert names == ["catEars.safetensors"]
    assert plan.rejected["catEarsXL.safetensors"].startswith("incompatible")
    assert plan.positive_prompt.count("cat ears") == 1  # trigger already present, not added twice


def test_trigger_word_added_and_weight_from_sidecar(models_root: Path) -> None:
    lib = scan(folders_under(models_root))
    plan = plan_loras(lib, analyze_keywords("oil painting of a harbour"), "sd15")
    oil = next(p for p in plan.loras if p.name == "oilPaint.safetensors")
    assert oil.weight == 0.6
    assert plan.positive_prompt.endswith("oil painting style")


def test_user_named_lora_is_kept_even_with_zero_max(models_root: Path) -> None:
    lib = scan(folders_under(models_root))
    plan = plan_loras(lib, analyze_keywords("a dog <lora:oilPaint:0.3>"), "sd15", max_loras=0)
    assert [(p.name, p.weight) for p in plan.loras] == [("oilPaint.safetensors", 0.3)]
    assert "<lora" not in plan.positive_prompt


def test_recommend_answer_names_files_under_models_root(models_root: Path) -> None:
    answer = recommend(scan(folders_under(models_root)), analyze_keywords("anime cat ears girl")).to_dict()
    assert answer["checkpoint"]["file"] == "checkpoints/animeMix_v2.safetensors"
    assert [(lo["file"], lo["weight"], lo["trigger_words"]) for lo in answer["loras"]] == [
        ("loras/catEars.safetensors", 0.8, ["cat ears"])]
    assert answer["analysis"]["source"] == "fallback"
    assert set(answer["params"]) >= {"steps", "cfg", "sampler", "scheduler", "width", "height", "clip_skip"}


def test_guessed_triggers_from_training_captions(models_root: Path) -> None:
    """No sidecar: captions open with the trigger; a broad opening tag makes the opening pair the guess,
    which is injected only when the prompt speaks of it; a detail enhancer's guess is never injected."""
    def kohya(name: str, tags: list[str]) -> None:
        counts = {"10_" + name: {tag: 5 for tag in tags}}
        write_safetensors(models_root / "loras" / f"{name}.safetensors", SD15_LORA,
                          {"ss_base_model_version": "sd_v1", "ss_tag_frequency": json.dumps(counts)})
    kohya("shrineTown", ["scenery", "shrine", "torii", "japan"])
    kohya("handFix", ["realistic", "holding", "1girl", "hands"])
    kohya("rorikVell", ["rorikvell", "solo", "long coat"])
    lib = scan(folders_under(models_root))
    assert lib.find("loras", "shrineTown.safetensors").trigger_words == ["scenery, shrine"]
    assert lib.find("loras", "rorikVell.safetensors").trigger_words == ["rorikvell"]
    shrine = plan_loras(lib, analyze_keywords("anime girl in a flooded shrine courtyard, torii"), "sd15")
    assert "shrineTown.safetensors" in [p.name for p in shrine.loras]
    assert shrine.positive_prompt.endswith(", scenery, shrine")
    hands = plan_loras(lib, analyze_keywords("anime boy, hands in pockets, on a rooftop"), "sd15")
    assert "handFix.safetensors" in [p.name for p in hands.loras]
    assert "realistic" not in hands.positive_prompt


def test_a_named_character_sets_the_style_and_gets_one_lora(models_root: Path) -> None:
    """No style words: the named character's LoRAs (anime) decide the style; two versions of her LoRA
    are one choice, not a stack."""
    for name, base in (("kaedeA", "SD 1.5"), ("kaedeB", "SD 1.5")):
        write_safetensors(models_root / "loras" / f"{name}.safetensors", SD15_LORA)
        (models_root / "loras" / f"{name}.civitai.info").write_text(json.dumps({
            "baseModel": base, "trainedWords": ["kaedehoshino"],
            "model": {"name": f"Kaede Hoshino {name[-1]}", "type": "LORA", "tags": ["character", "anime", "girl"]}}))
    lib = scan(folders_under(models_root))
    answer = recommend(lib, analyze_keywords("Kaede Hoshino smiling by the classroom window"))
    assert answer.analysis.style == "anime" and "the character you named" in answer.explain()
    assert answer.selection.checkpoint == "animeMix_v2.safetensors"
    assert [p.name for p in answer.plan.loras if p.name.startswith("kaede")] in (["kaedeA.safetensors"],
                                                                                 ["kaedeB.safetensors"])
    assert recommend(lib, analyze_keywords("a photo of a harbour")).analysis.style == "realistic"


def test_a_named_character_outweighs_a_stray_style_word_not_a_clear_one(models_root: Path) -> None:
    """"collab art" has one weak artistic word; the two characters it names are drawn in anime (their LoRAs
    say so and live on an anime base), so anime. "A photo of" is a clear word the characters do not outvote,
    and a concept LoRA on an anime base says nothing about how a photo is made."""
    for name, title in (("brine_il", "Captain Brineheart"), ("mimi_il", "Kurone Mimi")):
        write_safetensors(models_root / "loras" / f"{name}.safetensors", SD15_LORA)
        (models_root / "loras" / f"{name}.civitai.info").write_text(json.dumps({
            "baseModel": "Illustrious", "trainedWords": [title.lower().replace(" ", "")],
            "model": {"name": title, "type": "LORA", "tags": ["character", "anime", "vtuber"]}}))
    write_safetensors(models_root / "loras" / "mariachi_pony.safetensors", SD15_LORA)
    (models_root / "loras" / "mariachi_pony.civitai.info").write_text(json.dumps({
        "baseModel": "Pony", "trainedWords": ["mariachi"],
        "model": {"name": "Mariachi Charro Suit", "type": "LORA", "tags": ["clothing", "mariachi", "sombrero"]}}))
    lib = scan(folders_under(models_root))
    collab = analyze_keywords("collab art: Captain Brineheart and Kurone Mimi laughing on a pirate ship")
    assert collab.style == "artistic"  # the words alone
    answer = recommend(lib, collab)
    assert answer.analysis.style == "anime" and "Only a weak style word for artistic" in answer.explain()
    photo = recommend(lib, analyze_keywords("a photo of Kurone Mimi cosplay at a convention"))
    assert photo.analysis.style == "realistic"
    band = recommend(lib, analyze_keywords("street photo of a mariachi band in a plaza at night"))
    assert band.analysis.style == "realistic"


def test_a_lora_tagged_with_the_concept_beats_a_neighbour(models_root: Path) -> None:
    """Both read as oil painting ("impasto" is a kind of it); the one tagged "oil painting" is chosen."""
    for name, tags, trained in (("impastoBoost", ["impasto", "brushstrokes"], "impasto"),
                                ("oldMasterCanvas", ["oil painting", "classical"], "classic oil painting")):
        write_safetensors(models_root / "loras" / f"{name}.safetensors", SD15_LORA)
        (models_root / "loras" / f"{name}.civitai.info").write_text(json.dumps({
            "baseModel": "SD 1.5", "trainedWords": [trained], "model": {"name": name, "tags": tags}}))
    (models_root / "loras" / "oilPaint.json").unlink()  # the fixture's own oil LoRA would compete
    lib = scan(folders_under(models_root))
    plan = plan_loras(lib, analyze_keywords("oil painting portrait, thick brushstrokes"), "sd15")
    names = [p.name for p in plan.loras]
    assert "oldMasterCanvas.safetensors" in names and "impastoBoost.safetensors" not in names


def test_tags_decide_the_category_and_one_lora_per_named_tag(models_root: Path) -> None:
    """A "..._fix" file name (a bug-fix release) does not make a watercolor style LoRA a detail tool; two
    LoRAs that match only by the same whole tag ("fire") are one choice, not a stack."""
    write_safetensors(models_root / "loras" / "xl_v4_fin_fix.safetensors", SD15_LORA)
    (models_root / "loras" / "xl_v4_fin_fix.civitai.info").write_text(json.dumps({
        "baseModel": "SD 1.5", "trainedWords": ["wtrclr"], "model": {"name": "Wet Paper", "tags": ["style", "watercolor"]}}))
    for name in ("fireCaster", "flameHands"):
        write_safetensors(models_root / "loras" / f"{name}.safetensors", SD15_LORA)
        (models_root / "loras" / f"{name}.civitai.info").write_text(json.dumps({
            "baseModel": "SD 1.5", "trainedWords": [name.lower()], "model": {"name": name, "tags": ["fire", "effect"]}}))
    lib = scan(folders_under(models_root))
    assert lib.find("loras", "xl_v4_fin_fix.safetensors").category == "style"
    plan = plan_loras(lib, analyze_keywords("a phoenix rising out of fire"), "sd15")
    assert len([p for p in plan.loras if p.name in ("fireCaster.safetensors", "flameHands.safetensors")]) == 1


def test_a_style_lora_asked_for_outweighs_the_named_characters_own_style(models_root: Path) -> None:
    """A character whose LoRAs draw anime, on a lithograph poster: with only a weak style word, the lithograph
    style LoRA the prompt asks for says how the picture is made, not her anime. Without the poster, her LoRAs
    still decide."""
    for name, info in (("ottilie_sd15", {"trainedWords": ["ottvance"], "model": {
            "name": "Ottilie Vance", "type": "LORA", "tags": ["character", "anime", "magician"]}}),
                       ("style/litho_poster", {"trainedWords": ["lithograph poster"], "model": {
                           "name": "Circus Lithograph Poster", "type": "LORA",
                           "tags": ["style", "lithograph", "poster", "vintage"]}})):
        write_safetensors(models_root / "loras" / f"{name}.safetensors", SD15_LORA)
        (models_root / "loras" / f"{name}.civitai.info").write_text(json.dumps({"baseModel": "SD 1.5", **info}))
    lib = scan(folders_under(models_root))
    poster = recommend(lib, analyze_keywords("Ottilie Vance on a 1920s magic show poster, ornate lettering, lithograph"))
    assert poster.analysis.style == "artistic"
    assert {"ottilie_sd15.safetensors", "style/litho_poster.safetensors"} <= {p.name for p in poster.plan.loras}
    bowing = recommend(lib, analyze_keywords("Ottilie Vance bowing on a dark stage"))
    assert bowing.analysis.style == "anime"


def test_lora_plan_alone_follows_the_named_characters_style(models_root: Path) -> None:
    """The LoRA Recommender node plans on its own: a prompt with no style words naming an anime character keeps
    an anime-only kimono LoRA (under the default realistic style it would be dropped as fighting it)."""
    write_safetensors(models_root / "loras" / "kaedeA.safetensors", SD15_LORA)
    (models_root / "loras" / "kaedeA.civitai.info").write_text(json.dumps({
        "baseModel": "SD 1.5", "trainedWords": ["kaedehoshino"],
        "model": {"name": "Kaede Hoshino", "type": "LORA", "tags": ["character", "anime", "anime style", "1girl"]}}))
    write_safetensors(models_root / "loras" / "animeKimono.safetensors", SD15_LORA)
    (models_root / "loras" / "animeKimono.civitai.info").write_text(json.dumps({
        "baseModel": "SD 1.5", "trainedWords": ["kimono"],
        "model": {"name": "Anime Kimono", "tags": ["kimono", "anime", "anime style", "cel shading"]}}))
    lib = scan(folders_under(models_root))
    plan = plan_loras(lib, analyze_keywords("Kaede Hoshino in a kimono at a festival"), "sd15")
    assert {"kaedeA.safetensors", "animeKimono.safetensors"} <= {p.name for p in plan.loras}


def test_a_lora_whose_trigger_names_the_concept_beats_a_texture_one(models_root: Path) -> None:
    """Neither is tagged "oil painting"; the one whose trigger word names it ("classic oil painting") is the
    oil painting LoRA, the impasto texture one (trained on oil paintings too) is not."""
    write_safetensors(models_root / "loras" / "thickPaint.safetensors", SD15_LORA,
                      {"ss_tag_frequency": json.dumps({"5_x": {"impasto": 3, "oil painting (medium)": 3}})})
    (models_root / "loras" / "thickPaint.civitai.info").write_text(json.dumps({
        "baseModel": "SD 1.5", "trainedWords": ["impasto"], "model": {"name": "Thick Paint", "tags": ["painterly"]}}))
    write_safetensors(models_root / "loras" / "museumPiece.safetensors", SD15_LORA)
    (models_root / "loras" / "museumPiece.civitai.info").write_text(json.dumps({
        "baseModel": "SD 1.5", "trainedWords": ["classic oil painting"],
        "model": {"name": "Museum Piece", "tags": ["oils", "classical painting"]}}))
    (models_root / "loras" / "oilPaint.json").unlink()
    (models_root / "loras" / "oilPaint.safetensors").unlink()
    for subject in ("dragon", "kimono", "mecha", "underwater", "steampunk", "chibi"):  # a library, not just two
        write_safetensors(models_root / "loras" / f"{subject}.safetensors", SD15_LORA)
        (models_root / "loras" / f"{subject}.civitai.info").write_text(json.dumps({
            "baseModel": "SD 1.5", "trainedWords": [subject], "model": {"name": subject, "tags": [subject]}}))
    lib = scan(folders_under(models_root))
    plan = plan_loras(lib, analyze_keywords("(oil painting:1.2) of a lady, impasto brushwork"), "sd15")
    assert "museumPiece.safetensors" in [p.name for p in plan.loras]
