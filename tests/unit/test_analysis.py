from services.recommend.analysis import analyze_keywords, split_user_loras


def test_style_and_content_from_keywords() -> None:
    a = analyze_keywords("raw photo of an old fisherman, 85mm, film grain")
    assert a.style == "realistic"
    assert a.content_type == "character"
    assert "fisherman" in a.concepts


def test_anime_wins_over_default() -> None:
    assert analyze_keywords("1girl, anime, cherry blossoms").style == "anime"


def test_no_style_words_defaults_and_says_so() -> None:
    a = analyze_keywords("a cat")
    assert a.style == "realistic"
    assert any("defaulting" in r for r in a.reasons)


def test_weighting_syntax_and_break_are_read_as_words() -> None:
    a = analyze_keywords("(watercolor:1.3), [castle] BREAK breakfast table")
    assert a.style == "artistic"
    assert "castle" in a.concepts and "breakfast" in a.concepts and "break" not in a.concepts


def test_user_lora_tags_are_kept_and_removed_from_text() -> None:
    text, loras = split_user_loras("a cat <lora:catEars:0.7>, <lora:detail>")
    assert text == "a cat"
    assert [(lo.name, lo.weight) for lo in loras] == [("catEars", 0.7), ("detail", 1.0)]


def test_round_trip_through_dict() -> None:
    from services.recommend.analysis import PromptAnalysis

    a = analyze_keywords("anime girl <lora:x:0.5>")
    assert PromptAnalysis.from_dict(a.to_dict()) == a


def test_paraphrase_reaches_the_concept() -> None:
    from services.text.vocabulary import concepts_in

    assert "cyberpunk" in concepts_in("neon-drenched megacity at night")
    assert "pixel art" in concepts_in("chunky sprites like an old console game")
    assert analyze_keywords("chunky sprites like an old console game, a knight").style == "artistic"


def test_spelling_hyphens_and_plurals_reach_the_concept() -> None:
    from services.text.vocabulary import concepts_in, fold

    assert "watercolor" in concepts_in("a lighthouse painted in watercolours")
    assert "low poly" in concepts_in("low-polygon mountains")
    assert "chibi" in concepts_in("super-deformed girl")
    assert "plate armor" in concepts_in("knights in armours")
    assert "dragon" in concepts_in("two dragons")
    assert fold("girl with glasses").split() == ["girl", "with", "glasses"]  # eyewear, not glass
    assert fold("un postre de chocolate").split() == ["un", "postre", "de", "chocolate"]  # dessert, not poster
    assert analyze_keywords("anime-style boy on a rooftop").style == "anime"
    assert analyze_keywords("a girl drawn in the style of Japanese animation").style == "anime"


def test_described_looks_and_loose_words() -> None:
    from services.text.vocabulary import concepts_in

    assert "double exposure" in concepts_in("her silhouette superimposed with a pine forest")
    assert "glowing eyes" in concepts_in("her eyes emitting an electric blue light")
    assert "tilt-shift" in concepts_in("fake-miniature photo of a town square")
    assert "golden hour" in concepts_in("a meadow in warm evening sunlight")
    assert "fire magic" in concepts_in("conjurando llamas mágicas")
    assert "looking back" not in concepts_in("a puppy, fur lit from behind")  # lighting, not a pose
    assert "90s anime" not in concepts_in("retro 90s internet aesthetic, greek bust, pink and teal grid")
    assert "vaporwave" in concepts_in("retro 90s internet aesthetic, greek bust, pink and teal grid")
    assert analyze_keywords("plastic figurine of an anime girl, product photo").style == "3d"
    underwater = concepts_in("fotografía submarina, rayos de sol atravesando el agua")
    assert "underwater" in underwater and "lightning" not in underwater  # rayos: sun rays here


def test_spanish_prompts() -> None:
    oil = analyze_keywords("Pintura al óleo de un paisaje de montaña al atardecer, estilo impresionista")
    assert oil.style == "artistic" and "oil painting" in oil.concepts and oil.content_type == "landscape"
    assert analyze_keywords("una chica anime con ojos brillantes").style == "anime"
    assert analyze_keywords("un dragón pequeño en 3D, estilo Pixar").style == "3d"
    assert analyze_keywords("Foto de una anciana tejiendo, retrato realista").content_type == "portrait"


def test_booru_tags_and_embeddings() -> None:
    a = analyze_keywords("score_9, score_8_up, 1girl, solo, embedding:EasyNegative, (kimono:1.2)")
    assert a.style == "anime" and "kimono" in a.concepts
