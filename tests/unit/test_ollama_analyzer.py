"""The Ollama path of prompt analysis, against a loopback fake speaking Ollama's HTTP API."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.ollama_server import FakeOllama, Reply

from services.recommend.analysis import STYLE_PARAMETERS, PromptAnalysis, analyze_keywords
from services.recommend.llm import SYSTEM, OllamaSettings, analyze, build_schema

PROMPT = "oil painting of a knight in a castle <lora:detail:0.6>"
NEGATIVE = "blurry"
# Deliberately unlike the keyword result (artistic / character) so the source of each field shows.
VALID = {"style": "3d", "content_type": "animal", "concepts": ["dragon", "plate armor"]}


def settings(fake: FakeOllama | str, model: str = "llama3.2:latest", read_timeout: float = 5.0) -> OllamaSettings:
    host = fake.url if isinstance(fake, FakeOllama) else fake
    return OllamaSettings(host=host, model=model, connect_timeout=1.0, read_timeout=read_timeout)


def fallback_reason(analysis: PromptAnalysis) -> str:
    """Asserts the result is exactly the keyword analysis plus one reason; returns that reason."""
    keywords = analyze_keywords(PROMPT, NEGATIVE)
    assert analysis.source == "keywords"
    assert {**analysis.to_dict(), "reasons": []} == {**keywords.to_dict(), "reasons": []}
    extra = [r for r in analysis.reasons if r not in keywords.reasons]
    assert len(extra) == 1 and extra[0].startswith("Ollama was not used"), analysis.reasons
    return extra[0]


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port that refuses connections: bound (so nobody else takes it) but not listening."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


def test_valid_answer_is_used_and_request_is_constrained() -> None:
    with FakeOllama(replies=[Reply.answer(VALID)]) as fake:
        a = analyze(PROMPT, NEGATIVE, settings(fake), engine="auto")
    assert a.source == "ollama:llama3.2:latest"
    assert (a.style, a.content_type) == ("3d", "animal")
    assert a.concepts[:2] == ["dragon", "plate armor"]  # the LLM's first, then the keyword analysis' own
    assert "castle" in a.concepts and a.concepts.count("dragon") == 1
    assert a.suggested_parameters == STYLE_PARAMETERS["3d"]
    assert a.reasons == ["Style, concepts and candidate picks from the local LLM llama3.2:latest."]
    assert [u.name for u in a.user_loras] == ["detail"]

    [body] = fake.chat_requests
    assert body["model"] == "llama3.2:latest"
    assert body["format"] == build_schema()
    assert body["stream"] is False
    assert body["keep_alive"] == 0
    assert body["options"]["temperature"] == 0
    assert body["messages"] == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "oil painting of a knight in a castle"},  # LoRA tag removed
    ]


def test_auto_model_picks_an_installed_chat_model() -> None:
    installed = ["nomic-embed-text:latest", "qwen2.5:3b", "llama3.2:latest"]
    with FakeOllama(models=installed, replies=[Reply.answer(VALID)]) as fake:
        a = analyze(PROMPT, NEGATIVE, settings(fake, model="auto"), engine="auto")
    assert [(r.method, r.path) for r in fake.requests] == [("GET", "/api/tags"), ("POST", "/api/chat")]
    assert fake.chat_requests[0]["model"] == "llama3.2:latest"
    assert a.source == "ollama:llama3.2:latest"


def test_auto_model_with_nothing_installed_falls_back() -> None:
    with FakeOllama(models=[], replies=[Reply.answer(VALID)]) as fake:
        a = analyze(PROMPT, NEGATIVE, settings(fake, model="auto"), engine="auto")
    assert "no model is installed" in fallback_reason(a)
    assert fake.chat_requests == []


def test_model_name_without_tag_matches_latest() -> None:
    with FakeOllama(models=["llama3.2:latest"], replies=[Reply.answer(VALID)]) as fake:
        a = analyze(PROMPT, NEGATIVE, settings(fake, model="llama3.2"), engine="auto")
    assert a.source == "ollama:llama3.2"
    assert fake.chat_requests[0]["model"] == "llama3.2"


def test_missing_model_falls_back_naming_installed_models() -> None:
    with FakeOllama(models=["llama3.2:latest", "qwen2.5:3b"], replies=[Reply.answer(VALID)]) as fake:
        a = analyze(PROMPT, NEGATIVE, settings(fake, model="mistral"), engine="auto")
    reason = fallback_reason(a)
    assert "'mistral' is not installed" in reason
    assert "llama3.2:latest" in reason and "qwen2.5:3b" in reason
    assert fake.chat_requests == []


def test_model_missing_at_chat_time_falls_back_with_404() -> None:
    """Listed but gone when asked (deleted in between): Ollama's 404 reaches the reason."""
    with FakeOllama(models=["llama3.2:latest"], replies=[Reply.fail(404, 'model "llama3.2:latest" not found')]) as fake:
        a = analyze(PROMPT, NEGATIVE, settings(fake), engine="auto")
    reason = fallback_reason(a)
    assert "404" in reason and "not found" in reason


def test_busy_server_falls_back_with_status() -> None:
    busy = "server busy, please try again.  maximum pending requests exceeded"
    with FakeOllama(replies=[Reply.fail(503, busy)]) as fake:
        a = analyze(PROMPT, NEGATIVE, settings(fake), engine="auto")
    reason = fallback_reason(a)
    assert "503" in reason and "server busy" in reason
    assert len(fake.chat_requests) == 1


@pytest.mark.parametrize(
    "bad",
    [
        "{not json",
        json.dumps({"style": "cyberpunk", "content_type": "animal", "concepts": []}),
        json.dumps({"style": "3d", "content_type": "animal", "concepts": [1, 2]}),
        json.dumps({"style": "3d", "content_type": "animal"}),
        json.dumps(["3d", "animal"]),
        "",
    ],
    ids=["invalid-json", "style-not-in-enum", "concepts-not-strings", "missing-field", "not-an-object", "empty"],
)
def test_bad_answer_twice_falls_back_after_one_retry(bad: str) -> None:
    with FakeOllama(replies=[Reply(content=bad)]) as fake:
        a = analyze(PROMPT, NEGATIVE, settings(fake), engine="auto")
    assert "breaks the schema" in fallback_reason(a)
    assert len(fake.chat_requests) == 2


def test_bad_answer_then_valid_uses_the_retry() -> None:
    with FakeOllama(replies=[Reply(content="{not json"), Reply.answer(VALID)]) as fake:
        a = analyze(PROMPT, NEGATIVE, settings(fake), engine="auto")
    assert a.source == "ollama:llama3.2:latest"
    assert a.style == "3d"
    assert len(fake.chat_requests) == 2


def test_connection_refused_falls_back_quickly(closed_port: int) -> None:
    start = time.monotonic()
    a = analyze(PROMPT, NEGATIVE, settings(f"http://127.0.0.1:{closed_port}"), engine="auto")
    assert time.monotonic() - start < 1.0
    assert f"no Ollama at http://127.0.0.1:{closed_port}" in fallback_reason(a)


def test_read_timeout_falls_back() -> None:
    with FakeOllama(replies=[Reply.answer(VALID, delay=10)]) as fake:
        start = time.monotonic()
        a = analyze(PROMPT, NEGATIVE, settings(fake, read_timeout=0.5), engine="auto")
        elapsed = time.monotonic() - start
    assert 0.4 < elapsed < 3.0
    assert "Timeout" in fallback_reason(a)
    assert len(fake.chat_requests) == 1  # a timeout is not retried: that would double the wait


@pytest.mark.parametrize("host", ["http://127.0.0.1:notaport", "http://[::1", "http://127.0.0.1:99999"])
def test_malformed_host_falls_back(host: str) -> None:
    """A typo in OLLAMA_HOST must not break generation either."""
    assert "invalid Ollama host" in fallback_reason(analyze(PROMPT, NEGATIVE, settings(host), engine="auto"))


def test_keywords_engine_makes_no_request() -> None:
    with FakeOllama(replies=[Reply.answer(VALID)]) as fake:
        a = analyze(PROMPT, NEGATIVE, settings(fake), engine="keywords")
    assert fake.requests == []
    assert a.to_dict() == analyze_keywords(PROMPT, NEGATIVE).to_dict()


def test_fake_shuts_down_and_frees_its_port() -> None:
    with FakeOllama() as fake:
        url = fake.url
    port = int(url.rsplit(":", 1)[1])
    with socket.socket() as s, pytest.raises(ConnectionRefusedError):
        s.settimeout(1)
        s.connect(("127.0.0.1", port))



def test_shortlist_constrains_the_answer_to_real_files(tmp_path: Path) -> None:
    from services.recommend.llm import Shortlist

    shortlist = Shortlist(loras=["styles/pixel.safetensors", "tools/detail.safetensors"],
                          checkpoints=["artMix.safetensors"], tags=["pixel art", "sprite sheet"], library_version="v1",
                          lines={"styles/pixel.safetensors": "Pixel Sprites; trigger pxl; 16-bit sprites"})
    answer = {"style": "artistic", "content_type": "scene", "concepts": ["pixel art", "sprite sheet"],
              "loras": ["styles/pixel.safetensors"], "checkpoint": "artMix.safetensors"}
    invented = {**answer, "loras": ["made_up.safetensors"]}
    with FakeOllama(replies=[Reply.answer(invented), Reply.answer(answer)]) as fake:
        a = analyze("pixel knight", "", settings(fake), shortlist=shortlist, cache_dir=tmp_path)
        body = fake.chat_requests[0]
        assert body["format"]["properties"]["loras"]["items"]["enum"] == shortlist.loras
        assert "sprite sheet" in body["format"]["properties"]["concepts"]["items"]["enum"]
        # Each candidate with what it says of itself, for the LLM to judge.
        assert "- styles/pixel.safetensors: Pixel Sprites; trigger pxl; 16-bit sprites" in body["messages"][1]["content"]
        assert len(fake.chat_requests) == 2  # the invented file name broke the schema: one retry
        assert (a.llm_loras, a.llm_checkpoint) == (["styles/pixel.safetensors"], "artMix.safetensors")
        again = analyze("pixel knight", "", settings(fake), shortlist=shortlist, cache_dir=tmp_path)
        assert len(fake.chat_requests) == 2  # answered from the cache, nothing asked
        assert again.llm_loras == a.llm_loras
        changed = Shortlist(**{**shortlist.__dict__, "library_version": "v2"})
        analyze("pixel knight", "", settings(fake), shortlist=changed, cache_dir=tmp_path)
        assert len(fake.chat_requests) == 3  # a new library version asks again


def test_streamed_error_line_falls_back() -> None:
    with FakeOllama(replies=[Reply(stream_error=True, error="llama runner process has terminated")]) as fake:
        a = analyze(PROMPT, NEGATIVE, settings(fake))
    assert a.source == "keywords" and "Ollama was not used" in a.reasons[-1]


def test_only_the_prompt_and_vocabulary_leave(tmp_path: Path) -> None:
    with FakeOllama(replies=[Reply.answer(VALID)]) as fake:
        analyze("a dragon <lora:secret_file:0.5>", "", settings(fake), cache_dir=tmp_path / "private_folder")
    sent = " ".join(f"{r.path}?{r.query} {r.body.decode()}" for r in fake.requests)  # all that reached Ollama
    assert "secret_file" not in sent and "private_folder" not in sent and str(tmp_path) not in sent
    assert {r.path for r in fake.requests} <= {"/api/tags", "/api/chat"}
