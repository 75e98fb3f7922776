"""LoRAs found from what they say about themselves: no word list knows these concepts, and a word shared by
accident is not enough. The library is a handful of LoRAs no vocabulary names, among neighbours."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from model_files import SD15_LORA, SDXL_LORA, write_safetensors

from services.library.scan import Library, folders_under, scan
from services.library.search import Document, SearchIndex, query_terms, terms
from services.recommend.analysis import analyze_keywords
from services.recommend.loras import plan_loras
from services.recommend.pipeline import recommend

LORAS = {
    "HorologistWorkshop": ("Horologist's Workshop", ["clockwork", "horology", "workshop"], ["hrlg"],
                           "Clockwork repair benches, escapements and springs, loupes and tiny brass gears."),
    "apiary_life_v2": ("Apiary Life", ["beekeeping", "bees", "apiary"], [],
                       "Hives, honeycomb frames, smokers and beekeepers in veils."),
    "mira_voss": ("Mira Voss", ["character", "original character"], ["m1rav"],
                  "Mira Voss, silver-haired knight OC."),
    "TowerCraneXL": ("Tower Crane", ["construction", "crane", "machinery"], ["tower crane"],
                     "Construction sites, tower cranes, steel girders and hard hats."),
    "bookbinding": ("Bookbinder's Bench", ["bookbinding", "craft"], ["bkbind"],
                    "Sewing signatures, bone folders, leather spines."),
    "neon_signs": ("Neon Signs", ["neon", "signs", "night"], [], "Glowing neon signage for night streets."),
    "ottilie_vance": ("Madame Ottilie Vance", ["character", "original character", "magician"], ["ottvance"],
                      "My OC Ottilie Vance, a stage illusionist in a sequined tailcoat and monocle."),
    "brass_astrolabe": ("Brass Astrolabe", ["astrolabe", "scientific instrument"], [],
                        "Brass astrolabes with rete and alidade on a scholar's desk."),
    "steam_train": ("Steam Train", ["locomotive", "railway"], [],
                    "Trained on the SD 1.5 base model, weight 0.7: steam locomotives, smoke and rails."),
}


@pytest.fixture()
def library(models_root: Path) -> Library:
    for stem, (title, tags, triggers, description) in LORAS.items():
        write_safetensors(models_root / "loras" / f"{stem}.safetensors", SD15_LORA)
        (models_root / "loras" / f"{stem}.civitai.info").write_text(json.dumps({
            "baseModel": "SD 1.5", "trainedWords": triggers, "description": description,
            "model": {"name": title, "tags": tags, "type": "LORA"}}))
    return scan(folders_under(models_root))


def planned(library: Library, prompt: str) -> list[str]:
    return [p.name for p in plan_loras(library, analyze_keywords(prompt), "sd15").loras
            if p.reason != "general detail enhancer"]


@pytest.mark.parametrize("prompt, lora", [
    ("an old watchmaker's bench strewn with brass gears, escapements and springs", "HorologistWorkshop.safetensors"),
    ("a beekeeper lifting a frame dripping with honey from the hive", "apiary_life_v2.safetensors"),
    ("Mira Voss standing on a cliff at dawn", "mira_voss.safetensors"),
    ("m1rav, portrait, rain", "mira_voss.safetensors"),
    ("my knight OC Mira standing on a cliff at dawn", "mira_voss.safetensors"),  # her first name, as a name
    ("Mira on the castle wall at dawn, a silver-haired knight", "mira_voss.safetensors"),  # opening, and her words
    ("a tower crane over a construction site at dusk", "TowerCraneXL.safetensors"),
    ("Ottilie bowing on a dark stage", "ottilie_vance.safetensors"),  # behind "Madame", her first name
    ("ottilie bowing on stage in her sequined tailcoat", "ottilie_vance.safetensors"),  # lower case, and her words
    ("an old train pulling into a railway station", "steam_train.safetensors"),
    ("watercolor sketch of an astrolabe beside a quill", "brass_astrolabe.safetensors"),  # a word of one meaning  # "train" in a title: a train
])
def test_a_lora_no_list_knows_is_found_from_its_own_words(library: Library, prompt: str, lora: str) -> None:
    assert planned(library, prompt) == [lora]


@pytest.mark.parametrize("prompt", [
    "a red-crowned crane wading in a marsh at dawn, wildlife photography",  # the bird, not the machine
    "a knight in a rainy forest",  # a word of Mira's description is not her name
    "Mira el acantilado al amanecer",  # "look at the cliff": a capital that only starts the sentence
    "a knight, mira el acantilado",  # and the same word written as a word
    "a bowl of soup on a windowsill",
    "a stage illusionist in a sequined tailcoat",  # her words, not her name
    "Madame Zora reading palms",  # another madame
    "ottilie",  # lower case, and nothing else of her
    "tents of a base camp below the icefall",  # "base model" in a description is how to use it
])
def test_a_word_shared_by_accident_is_not_enough(library: Library, prompt: str) -> None:
    assert planned(library, prompt) == []


def test_the_explanation_names_the_lora_s_own_fields(library: Library) -> None:
    plan = plan_loras(library, analyze_keywords("a beekeeper lifting a frame dripping with honey from the hive"), "sd15")
    assert "its description" in plan.loras[0].reason and "hive" in plan.loras[0].reason


def test_words_fold_and_stem_the_same_way_in_prompts_and_metadata() -> None:
    assert set(terms("Beekeepers")) == set(terms("beekeeper"))
    assert "pixel_art" in terms("PixelArt_XL_v2") and "pixel_art" in terms("pixel-art")
    assert set(terms("Acuarélas")) == set(terms("acuarelas"))
    weights = query_terms("a (lighthouse:1.4), (rocks:0.5)")
    assert weights[terms("lighthouse")[0]] > weights[terms("rock")[0]]


def test_relevance_is_read_the_same_in_a_small_and_a_large_library() -> None:
    """idf as a share of a unique word: thresholds do not move with the library's size."""
    def doc(title: str) -> Document:
        return Document.of(title, [], [title], f"{title}.safetensors", [], [], "")

    small = SearchIndex.build([doc("apiary"), doc("forge")])
    large = SearchIndex.build([doc("apiary"), *(doc(f"filler{i}") for i in range(2_000))])
    (term,) = terms("apiary")
    assert small.idf(term) == pytest.approx(1.0) and large.idf(term) == pytest.approx(1.0)
    assert small.search({term: 1.0})[0].score == pytest.approx(large.search({term: 1.0})[0].score, rel=0.05)


def test_an_llm_that_judged_the_candidates_decides(library: Library) -> None:
    """The local LLM saw the search's candidates: what it picked is applied (even a weak match), what it left
    out is not (even a strong one)."""
    from dataclasses import replace

    from services.recommend.pipeline import shortlist_for

    analysis = analyze_keywords("an old watchmaker's bench strewn with brass gears, neon glow")
    offered = shortlist_for(library, analysis)
    assert "HorologistWorkshop.safetensors" in offered.loras and "neon_signs.safetensors" in offered.loras
    assert "Horologist's Workshop" in offered.lines["HorologistWorkshop.safetensors"]
    judged = replace(analysis, source="ollama:test", llm_loras=["neon_signs.safetensors"], llm_judged_loras=True)
    assert planned(library, "") == [] and [p.name for p in plan_loras(library, judged, "sd15").loras
                                           if p.reason != "general detail enhancer"] == ["neon_signs.safetensors"]


def test_the_strong_candidates_left_out_are_said_with_why(library: Library) -> None:
    plan = plan_loras(library, analyze_keywords("a red-crowned crane wading in a marsh at dawn"), "sd15")
    (line,) = [r for r in plan.reasons if r.startswith("Left out Tower Crane")]
    assert "only 'crane' in common" in line


def test_only_a_general_detail_lora_fills_the_free_slot(models_root: Path) -> None:
    """A macro-photography LoRA tagged "detail" among its own subjects is no general enhancer, however popular;
    nor is an age slider, a tool that changes age; the Detail Slider, which names nothing but detail, is."""
    for stem, title, tags, downloads in (
            ("MacroStackXL", "Macro Focus Stack", ["photography", "macro", "focus stacking", "detail"], 59_000),
            ("age_slider_v2", "Age Slider", ["tool", "slider", "age"], 80_000),
            ("detail_slider_v4", "Detail Slider", ["tool", "detail", "slider"], 3_000)):
        write_safetensors(models_root / "loras" / f"{stem}.safetensors", SD15_LORA)
        (models_root / "loras" / f"{stem}.civitai.info").write_text(json.dumps({
            "baseModel": "SD 1.5", "stats": {"downloadCount": downloads},
            "model": {"name": title, "tags": tags, "type": "LORA"}}))
    library = scan(folders_under(models_root))
    assert [e.name for e in library.detailers["sd15"]] == ["detail_slider_v4.safetensors"]
    plan = plan_loras(library, analyze_keywords("a photo of a lighthouse on a cliff"), "sd15")
    assert [p.name for p in plan.loras if p.reason == "general detail enhancer"] == ["detail_slider_v4.safetensors"]


def test_spanish_words_also_search_as_their_english_cognates() -> None:
    """Metadata is mostly English and prompts are often Spanish: "vikingos" also looks for "viking"; an English
    word is searched as itself only."""
    assert {"viking", "roman"} <= set(query_terms("vikingos y legionarios romanos"))
    assert set(query_terms("roman vikings")) == set(terms("roman vikings"))


def _lora(root: Path, name: str, tensors: dict[str, list[int]], info: dict[str, object] | None = None,
          captions: list[str] | None = None) -> None:
    """A LoRA with a CivitAI sidecar (`info`), or kohya captions only (`captions`)."""
    metadata = {"ss_tag_frequency": json.dumps({"10_set": {c: 10 for c in captions}})} if captions else None
    path = write_safetensors(root / "loras" / name, tensors, metadata)
    if info is not None:
        path.with_suffix(".civitai.info").write_text(json.dumps(info))


def _civitai(base: str, title: str, tags: list[str], description: str = "") -> dict[str, object]:
    return {"baseModel": base, "description": description, "model": {"name": title, "tags": tags, "type": "LORA"}}


def test_loras_named_by_one_same_word_are_one_concept(models_root: Path) -> None:
    """"Slam Dunk" and "Basketball Dunk" are two dunk LoRAs: one goes into the image, not both."""
    _lora(models_root, "SlamDunkPose.safetensors", SD15_LORA,
          _civitai("SD 1.5", "Slam Dunk", ["pose", "slam dunk", "dunk"], "Hanging on the rim after a slam dunk."))
    _lora(models_root, "bball_dunk.safetensors", SD15_LORA,
          _civitai("SD 1.5", "Basketball Dunk", ["basketball", "dunk"], "Basketball players dunking."))
    chosen = planned(scan(folders_under(models_root)), "a basketball player's slam dunk, hanging on the rim")
    assert len(chosen) == 1 and chosen[0] in {"SlamDunkPose.safetensors", "bball_dunk.safetensors"}


def test_a_lora_met_only_in_its_description_joins_the_concept_it_resembles(models_root: Path) -> None:
    """A Pony LoRA without tags whose description tells of racing overalls is the racing suit "Racing Suit XL"
    already is: one of them goes into the image."""
    _lora(models_root, "RacingSuitXL.safetensors", SDXL_LORA, _civitai(
        "SDXL 1.0", "Racing Suit XL", ["clothing", "racing suit", "overalls"],
        "Fireproof racing overalls covered in sponsor patches, with the helmet."))
    _lora(models_root, "rcs_pony.safetensors", SDXL_LORA, _civitai(
        "Pony", "", [], "Fireproof racing overalls with sponsor patches and a helmet, for Pony."))
    chosen = [p.name for p in plan_loras(scan(folders_under(models_root)),
                                         analyze_keywords("a driver in fireproof overalls with sponsor patches"),
                                         "sdxl").loras if p.reason != "general detail enhancer"]
    assert len(chosen) == 1


def test_a_thinly_described_lora_of_another_base_is_the_concept_it_resembles(models_root: Path) -> None:
    """The SD 1.5 "Sumo Dohyo" LoRA is clearly asked for; the SDXL "rikishi xl" says only its captions, which
    say what Sumo Dohyo says (sumo, mawashi, dohyo): for an SDXL checkpoint it is the sumo LoRA. A LoRA that
    shares nothing with it but the word "sumo" (a cat meme) is not."""
    _lora(models_root, "sumo_dohyo.safetensors", SD15_LORA, _civitai(
        "SD 1.5", "Sumo Dohyo", ["sumo", "wrestling", "japan"],
        "Sumo wrestlers (rikishi) in mawashi on the clay dohyo: the clash, shiko stomps and salt throwing."))
    _lora(models_root, "rikishi_xl.safetensors", SDXL_LORA, captions=["rikishi", "sumo", "mawashi", "dohyo", "2boys"])
    _lora(models_root, "sumo_cat_xl.safetensors", SDXL_LORA, captions=["sumo cat", "sumo", "cat", "chibi", "cute"])
    library = scan(folders_under(models_root))
    prompt = analyze_keywords("two sumo wrestlers clash on the dohyo, salt hanging in the air")
    chosen = [p.name for p in plan_loras(library, prompt, "sdxl").loras if p.reason != "general detail enhancer"]
    assert chosen == ["rikishi_xl.safetensors"]


def test_a_style_lora_sorted_into_a_style_folder_makes_the_prompt_an_art_style(models_root: Path) -> None:
    """A kohya-only LoRA the user keeps in loras/style/ is a style LoRA; one that says neither photo, anime nor
    3d draws an art style: a prompt without style words that asks for it is artistic. The same file elsewhere
    says nothing of its kind, and the prompt stays with the default."""
    captions = ["mandala", "sacred geometry", "symmetry", "lotus", "ornate"]
    _lora(models_root, "style/SacredMandala.safetensors", SD15_LORA, captions=captions)
    prompt = analyze_keywords("an intricate mandala of lotus petals, sacred geometry, radial symmetry")
    library = scan(folders_under(models_root))
    assert library.find("loras", "style/SacredMandala.safetensors").category == "style"
    assert recommend(library, prompt).analysis.style == "artistic"
    (models_root / "loras" / "style" / "SacredMandala.safetensors").rename(models_root / "loras" / "Mandala.safetensors")
    assert recommend(scan(folders_under(models_root)), prompt).analysis.style == "realistic"


def test_one_weak_style_word_lets_the_loras_asked_for_decide(models_root: Path) -> None:
    """"Under full canvas" is sails, not a painting: with only that weak cue, the photographic age-of-sail LoRA
    the prompt asks for decides the style. A clear style word ("oil painting") stays."""
    _lora(models_root, "AgeOfSail.safetensors", SD15_LORA, _civitai(
        "SD 1.5", "Age of Sail Frigates", ["photography", "photorealistic", "ship", "frigate"],
        "Photorealistic frigates and tall ships heeling in a gale, spray over the bow."))
    library = scan(folders_under(models_root))
    sails = recommend(library, analyze_keywords("a frigate under full canvas heeling in a gale, spray over the bow"))
    assert sails.analysis.style == "realistic"
    assert recommend(library, analyze_keywords("an oil painting of a frigate in a gale")).analysis.style == "artistic"


def test_letters_without_a_decomposition_fold_to_ascii() -> None:
    """"weiß" is "weiss", not "wei"; "Finnmarksløpet" keeps its o."""
    from services.text.vocabulary import fold

    assert fold("Schwarzweiß Finnmarksløpet Æsir Łódź").split() == ["schwarzweiss", "finnmarkslopet", "aesir", "lodz"]


def test_the_library_s_words_are_read_inside_a_compound_and_an_unstemmed_word(models_root: Path) -> None:
    """A German prompt joins what English metadata writes apart ("Forschungsstation": a research station),
    and writes "Aquarell" where the metadata says "aquarelle". An English word stays whole: a telephoto lens
    is no photo."""
    _lora(models_root, "PolarStation.safetensors", SD15_LORA, _civitai(
        "SD 1.5", "Polar Research Station", ["background", "research station", "antarctica"],
        "Research stations on the ice: modules on stilts, radomes."))
    _lora(models_root, "PhotoBooth.safetensors", SD15_LORA, _civitai(
        "SD 1.5", "Photo Booth Strip", ["photo", "booth"], "Four photo booth frames on a strip."))
    _lora(models_root, "AquarelleWash.safetensors", SD15_LORA, _civitai(
        "SD 1.5", "Aquarelle", ["style", "aquarelle"], "Loose aquarelle washes on rough paper."))
    library = scan(folders_under(models_root))
    assert planned(library, "ein Polarforscher vor einer Forschungsstation in der Antarktis") == [
        "PolarStation.safetensors"]
    assert planned(library, "a kestrel hovering over a meadow, shot with a telephoto lens") == []
    assert "AquarelleWash.safetensors" in planned(library, "Aquarell einer Katze")


def test_a_style_lora_asked_for_in_words_no_list_has_decides_the_style(models_root: Path) -> None:
    """No style word the vocabulary knows ("Aquarell" is German), but the prompt asks for a watercolour style
    LoRA: the image is artistic, and the LoRA is applied. A subject LoRA that leans away does not decide."""
    _lora(models_root, "AquarelleWash.safetensors", SD15_LORA, _civitai(
        "SD 1.5", "Aquarelle", ["style", "watercolor", "painting"], "Loose watercolor washes on rough paper."))
    _lora(models_root, "AnimeFoxes.safetensors", SD15_LORA, _civitai(
        "SD 1.5", "Arctic Foxes", ["anime", "fox", "arctic fox"], "Anime arctic foxes in the snow, anime style."))
    library = scan(folders_under(models_root))
    painted = recommend(library, analyze_keywords("Aquarell eines Leuchtturms, zarte Farben"))
    assert painted.analysis.style == "artistic"
    assert "AquarelleWash.safetensors" in [p.name for p in painted.plan.loras]
    assert recommend(library, analyze_keywords("an arctic fox curled up in the snow")).analysis.style == "realistic"


def test_in_a_prompt_of_another_language_one_rare_name_of_the_lora_is_enough(models_root: Path) -> None:
    """An English document cannot agree with the rest of a German prompt: "Butoh", named by the LoRA's title and
    tags, is enough there, and so is a word of the prompt's language that the LoRA names itself by ("Biblioteca
    Catenata"). A word English writes every day too is no such name ("luna" is the moon, not "Luna Moth"), and
    in an English prompt one such word stays too little."""
    _lora(models_root, "AnkokuButoh.safetensors", SD15_LORA, _civitai(
        "SD 1.5", "Ankoku Butoh", ["butoh", "dance", "avant-garde"], "Ankoku butoh dancers, white paint."))
    _lora(models_root, "LunaMoth.safetensors", SD15_LORA, _civitai(
        "SD 1.5", "Luna Moth", ["luna moth", "insect"], "Pale green luna moths with long tails."))
    library = scan(folders_under(models_root))
    assert planned(library, "Schwarzweißfoto eines Butoh-Tänzers, weiß gepuderter Körper, leere Bühne") == [
        "AnkokuButoh.safetensors"]
    assert planned(library, "una bruja sentada en una roca, luz de luna sobre el mar") == []
    _lora(models_root, "ChainedLibrary.safetensors", SD15_LORA, _civitai(
        "SD 1.5", "Biblioteca Catenata", ["biblioteca", "chained library"], "Books chained to lecterns."))
    library = scan(folders_under(models_root))  # a word of the prompt's language the LoRA names itself by
    assert planned(library, "uma biblioteca antiga com livros presos por correntes, luz de velas") == [
        "ChainedLibrary.safetensors"]
    assert planned(library, "the lights of a luna park at night") == []


def test_a_strong_style_match_leaves_the_subject_it_paints_standing(models_root: Path) -> None:
    """Every style word of the prompt meets the impasto LoRA; the icebreaker, named by two rare words, is a
    second thing asked for, not an accident beside it. A subject met only by passing words of its description
    stays out."""
    _lora(models_root, "ImpastoOils.safetensors", SD15_LORA, _civitai(
        "SD 1.5", "Impasto Oil Painting", ["style", "impasto", "oil painting", "palette knife", "impressionism"],
        "Thick impasto oil paint, palette knife strokes, impressionist texture. Trigger: impasto oil painting"))
    _lora(models_root, "PolarClass.safetensors", SD15_LORA, _civitai(
        "SD 1.5", "Polar Class Icebreakers", ["vehicle", "ship", "icebreaker"], "Icebreakers crushing pack ice."))
    _lora(models_root, "KenteCloth.safetensors", SD15_LORA, _civitai(
        "SD 1.5", "Kente Cloth", ["textile", "kente"], "Strip-woven kente with bright edges and thick strokes."))
    library = scan(folders_under(models_root))
    chosen = planned(library, "impasto oil painting of an icebreaker in the polar night, thick palette knife "
                              "strokes, impressionist")
    assert sorted(chosen) == ["ImpastoOils.safetensors", "PolarClass.safetensors"]


def test_a_far_stronger_lora_of_a_concept_wins_over_the_exact_base(models_root: Path) -> None:
    """"Sled dogs" for Pony and "Long-Distance Sled Dog Race" for SDXL are one concept by their shared words;
    for a sled dog race on a Pony checkpoint the race LoRA, far more relevant, goes in, not the Pony one."""
    from services.recommend.loras import plan_loras

    _lora(models_root, "sleddog_pony.safetensors", SDXL_LORA, _civitai("Pony", "Sled Dogs", ["sled dogs", "husky"]))
    _lora(models_root, "MushersRaceXL.safetensors", SDXL_LORA, _civitai(
        "SDXL 1.0", "Long-Distance Sled Dog Race", ["sled dog race", "racing", "race bib", "crowd"],
        "Mushers with race bibs, starting chutes with cheering crowds."))
    library = scan(folders_under(models_root))
    plan = plan_loras(library, analyze_keywords("a sled dog race, race bibs, crowd cheering behind fences"),
                      "sdxl", base_model="Pony")
    assert [p.name for p in plan.loras if p.reason != "general detail enhancer"] == ["MushersRaceXL.safetensors"]


def test_a_first_name_behind_a_title_or_opening_the_prompt_is_a_name() -> None:
    from services.recommend.prompt_keys import capitalised_words

    assert "anselm" in capitalised_words("Brother Anselm trimming a goose feather")[0]  # "Brother" is everyday
    assert "isolde" in capitalised_words("Isolde kneeling by the circle")[0]  # no everyday word: a name anywhere
    assert "mira" in capitalised_words("Mira el mar")[1]  # Spanish "look": opening, it is no proof
    inside, leading = capitalised_words("Kurone Mimi waving")
    assert not {"kurone", "mimi"} & (inside | leading)  # a surname: her whole name, not a Mimi
    assert "kiki" in capitalised_words("kiki riding a unicycle")[1]  # lower case: a name only with her words
    assert not {"the", "old", "stage"} & capitalised_words("the old stage")[1]  # words of every other page


def test_a_lora_captioned_with_a_named_character_s_whole_name_is_another_version_of_her(models_root: Path) -> None:
    """A kohya-only LoRA captioned "shirane yukina" is her LoRA for another base, though nothing calls it a
    character: one of the two goes into the image, the one made for the checkpoint's own base."""
    _lora(models_root, "yukina_il.safetensors", SDXL_LORA, _civitai(
        "Illustrious", "Shirane Yukina", ["character", "original character", "climber"],
        "Shirane Yukina, climbing club girl: orange jacket, yellow helmet."))
    _lora(models_root, "ysh_v1-000008.safetensors", SDXL_LORA,
          captions=["shirane yukina", "1girl", "orange jacket", "helmet", "snow", "mountain"])
    library = scan(folders_under(models_root))
    plan = plan_loras(library, analyze_keywords("shirane yukina, 1girl, orange jacket, on a snowy summit"), "sdxl",
                      base_model="SDXL 1.0")
    assert [p.name for p in plan.loras if p.reason != "general detail enhancer"] == ["ysh_v1-000008.safetensors"]


def test_a_lora_whose_whole_title_the_prompt_writes_stands_beside_a_far_stronger_one(models_root: Path) -> None:
    """The prompt writes "castle" and "siege": "Castle Siege" is asked for by name, however much more of the
    prompt the fire-pot LoRA meets (the relative floor keeps out accidents, not LoRAs named in full)."""
    _lora(models_root, "FirePots.safetensors", SD15_LORA, _civitai(
        "SD 1.5", "Flaming Arrows and Pitch Pots", ["flaming arrows", "pitch pots", "burning", "night", "arcing"],
        "Flaming arrows and burning pitch pots arcing through the night sky over battlements."))
    _lora(models_root, "CastleSiege.safetensors", SD15_LORA, _civitai(
        "SD 1.5", "Castle Siege", ["castle", "siege", "battle"], "Armies at the walls of a besieged castle."))
    chosen = planned(scan(folders_under(models_root)),
                     "castle gate under a night siege, flaming arrows and burning pitch pots arcing over the battlements")
    assert sorted(chosen) == ["CastleSiege.safetensors", "FirePots.safetensors"]


def test_a_lora_is_grouped_by_what_it_names_itself_as(models_root: Path) -> None:
    """"Deep Blue" is an underwater LoRA whose captions speak of light rays too: beside a god-rays LoRA it is the
    underwater concept, not a second god-rays LoRA left out."""
    _lora(models_root, "DeepBlue.safetensors", SD15_LORA, _civitai("SD 1.5", "Deep Blue", ["underwater", "ocean", "sea"]),
          captions=["underwater", "ocean", "swimming", "light rays", "coral", "fish"])
    _lora(models_root, "GodRays.safetensors", SD15_LORA, _civitai(
        "SD 1.5", "Volumetric God Rays", ["god rays", "lighting", "sunbeams"], "Volumetric light shafts."))
    chosen = planned(scan(folders_under(models_root)),
                     "underwater photo of a scuba diver over a coral reef, god rays through the water")
    assert sorted(chosen) == ["DeepBlue.safetensors", "GodRays.safetensors"]


def test_a_later_word_of_a_character_s_name_that_no_everyday_text_writes_names_her() -> None:
    from services.library.entries import ModelEntry
    from services.recommend.prompt_keys import first_names

    def names(title: str) -> set[str]:
        return first_names(ModelEntry("loras", "x.safetensors", "/x.safetensors", 1, title=title))

    assert names("Kasuga Tomoe (Castle Breakers!) v1") == {"kasuga", "tomoe"}  # family name first
    assert names("Commander Vesna Orlova - OC v2") >= {"vesna", "orlova"}
    assert names("Inés Valdemoro – Bailaora OC") == {"ines", "valdemoro"}  # what follows the dash is no name
    assert not {"dice", "goblin"} <= names("Pip the Dice Goblin")  # everyday words: never her name alone


def test_a_die_and_a_film_format_are_words() -> None:
    """Tokens of a letter and digits, or digits and a unit of length, say what the picture shows ("d20",
    "35mm film"); versions and ranks ("v2", "r16", "e10") and sizes in pixels do not."""
    assert "d20" in terms("PolyDice d20 XL") and "35mm" in terms("35mm film")
    assert not set(terms("lora_r16_e10_v2 768px")) & {"r16", "e10", "v2", "768px"}



def test_a_spanish_word_is_read_as_its_english_cognate_the_library_writes() -> None:
    """"nebulosa" is the library's "nebula", "estación" its "station": spelt alike by rule (ph as f, -tion as
    -ción, a Spanish e before s), not from a list. A short English word where a Spanish one begins is no cognate
    ("astro" in "astronauta"), and a word that is no cognate stays apart ("carpa" is no carpet)."""
    from services.library.search import read_as_the_library

    index = SearchIndex.build([Document.of(title, [], [], f"{title}.safetensors", [], [], "")
                               for title in ("Nebula Glow", "Orbital Station", "Astro Photography", "Carpet Shop",
                                             "Filler Words")])
    prompt = "una nebulosa sobre la estación, fotografía de astronauta, una carpa roja"
    read = read_as_the_library(query_terms(prompt), prompt, index)
    assert {"nebula", "station"} <= read.keys()
    assert not {"astro", "carpet"} & read.keys()
