from services.analysis import analyze_keywords, split_user_loras


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
    from services.analysis import PromptAnalysis

    a = analyze_keywords("anime girl <lora:x:0.5>")
    assert PromptAnalysis.from_dict(a.to_dict()) == a
