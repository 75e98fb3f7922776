"""The hardened HTTP session against loopback fakes: what it sends, what it accepts, how it waits."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.civitai_server import FakeCivitai, Fault, civitai_model, civitai_version
from fakes.clock import FakeTime
from fakes.loopback import Recorder

from services.online import session as online
from services.online.session import (
    USER_AGENT,
    HardenedSession,
    OnlineError,
    OnlineSettings,
    RateLimiter,
    SettingsError,
    settings_for,
)

SHA = hashlib.sha256(b"model").hexdigest()
BY_HASH = f"/api/v1/model-versions/by-hash/{SHA}"


@pytest.fixture
def civitai() -> Iterator[FakeCivitai]:
    with FakeCivitai([civitai_version(SHA, 11, 101)], {11: civitai_model(11)}) as fake:
        yield fake


def session(fake: FakeCivitai, t: FakeTime | None = None, **overrides: object) -> HardenedSession:
    values: dict[str, object] = {"hf_url": "https://hf.invalid", "rate_per_second": 50, "read_timeout": 2.0,
                                 **overrides}
    settings = OnlineSettings(civitai_url=fake.url, **values)  # type: ignore[arg-type]
    if t is None:
        return HardenedSession(settings)
    return HardenedSession(settings, clock=t.clock, sleep=t.sleep, wall_clock=lambda: 0.0)


def test_sends_fixed_headers_no_cookies_no_credentials(civitai: FakeCivitai, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # Everything requests would pick up from the environment if trust_env were on:
    (tmp_path / ".netrc").write_text("machine 127.0.0.1 login alice password secret\n")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NETRC", str(tmp_path / ".netrc"))
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # would fail the requests if used
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    with session(civitai) as s:
        first = s.get_json(civitai.url + BY_HASH)
        second = s.get_json(civitai.url + BY_HASH)  # after a Set-Cookie answer
    assert first.status == second.status == 200 and first.data["id"] == 101
    assert len(civitai.requests) == 2
    for request in civitai.requests:
        headers = {k.lower(): v for k, v in request.headers.items()}
        assert headers["user-agent"] == USER_AGENT
        assert "cookie" not in headers and "authorization" not in headers
        assert set(headers) <= {"host", "user-agent", "accept", "accept-encoding", "connection", "content-length",
                                "content-type"}


def test_not_found_is_an_answer(civitai: FakeCivitai) -> None:
    with session(civitai) as s:
        answer = s.get_json(civitai.url + "/api/v1/model-versions/by-hash/" + "0" * 64)
    assert (answer.status, answer.data) == (404, None)


@pytest.mark.parametrize("status", [429, 500, 503])
def test_retries_with_exponential_backoff(civitai: FakeCivitai, status: int) -> None:
    t = FakeTime()
    civitai.fail(BY_HASH, Fault.status_code(status), times=3)
    with session(civitai, t) as s:
        answer = s.get_json(civitai.url + BY_HASH)
    assert answer.data["id"] == 101
    assert len(civitai.requests) == 4
    assert [w for w in t.sleeps if w >= 1] == [1.0, 2.0, 4.0]  # the rate limiter's 0.02 s gaps aside


def test_backoff_is_capped_and_gives_up(civitai: FakeCivitai) -> None:
    t = FakeTime()
    civitai.fail(BY_HASH, Fault.status_code(503), times=100)
    with session(civitai, t, retries=7) as s, pytest.raises(OnlineError, match="HTTP 503 after 8 attempts"):
        s.get_json(civitai.url + BY_HASH)
    assert len(civitai.requests) == 8
    assert [w for w in t.sleeps if w >= 1] == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_retry_after_is_honoured(civitai: FakeCivitai) -> None:
    t = FakeTime()
    civitai.fail(BY_HASH, Fault.status_code(429, retry_after="7"), times=1)
    with session(civitai, t) as s:
        assert s.get_json(civitai.url + BY_HASH).status == 200
    assert [w for w in t.sleeps if w >= 1] == [7.0]


def test_long_retry_after_stops_this_and_later_requests(civitai: FakeCivitai) -> None:
    t = FakeTime()
    civitai.fail(BY_HASH, Fault.status_code(429, retry_after="3600"), times=1)
    with session(civitai, t) as s:
        with pytest.raises(OnlineError, match="asks to wait 3600 s") as first:
            s.get_json(civitai.url + BY_HASH)
        with pytest.raises(OnlineError, match="asked to wait") as second:
            s.get_json(civitai.url + "/api/v1/models/11")
        assert first.value.reason == second.value.reason == "rate_limited"
        t.now += 3601
        assert s.get_json(civitai.url + "/api/v1/models/11").status == 200
    assert [r.path for r in civitai.requests] == [BY_HASH, "/api/v1/models/11"]


@pytest.mark.parametrize("status", [400, 401, 403, 410])
def test_other_client_errors_are_not_retried(civitai: FakeCivitai, status: int) -> None:
    t = FakeTime()
    civitai.fail(BY_HASH, Fault.status_code(status), times=5)
    with session(civitai, t) as s, pytest.raises(OnlineError, match=f"HTTP {status}"):
        s.get_json(civitai.url + BY_HASH)
    assert len(civitai.requests) == 1


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (Fault.html(), "not_json"),
        (Fault.html(status=403), "http"),
        (Fault.huge(200_000), "too_large"),
        (Fault.huge(200_000, announced=False), "too_large"),
        (Fault.malformed(), "bad_json"),
    ],
    ids=["html-200", "html-403", "huge", "huge-no-length", "malformed"],
)
def test_unusable_answers_are_refused(civitai: FakeCivitai, fault: Fault, reason: str) -> None:
    civitai.fail(BY_HASH, fault)
    with session(civitai, FakeTime(), max_response_bytes=64 * 1024) as s, pytest.raises(OnlineError) as err:
        s.get_json(civitai.url + BY_HASH)
    assert err.value.reason == reason
    assert len(civitai.requests) == 1


def test_timeout_is_retried_then_reported(civitai: FakeCivitai) -> None:
    t = FakeTime()
    civitai.fail(BY_HASH, Fault.timeout(5.0), times=2)
    with session(civitai, t, read_timeout=0.2, retries=1) as s, pytest.raises(OnlineError) as err:
        s.get_json(civitai.url + BY_HASH)
    assert err.value.reason == "timeout"
    assert len(civitai.requests) == 2


def test_redirect_to_a_foreign_host_is_not_followed(civitai: FakeCivitai) -> None:
    with Recorder() as foreign:
        civitai.fail(BY_HASH, Fault.redirect(foreign.url + "/steal"))
        with session(civitai, FakeTime()) as s, pytest.raises(OnlineError) as err:
            s.get_json(civitai.url + BY_HASH)
    assert err.value.reason == "redirect"
    assert foreign.requests == []


def test_redirect_within_the_configured_host_is_followed(civitai: FakeCivitai) -> None:
    civitai.fail("/old/", Fault.redirect(BY_HASH))
    with session(civitai, FakeTime()) as s:
        assert s.get_json(civitai.url + "/old/path").data["id"] == 101
    assert [r.path for r in civitai.requests] == ["/old/path", BY_HASH]


def test_unconfigured_host_is_refused_before_sending(civitai: FakeCivitai) -> None:
    with Recorder() as other, session(civitai, FakeTime()) as s, pytest.raises(OnlineError, match="not a configured"):
        s.get_json(other.url + BY_HASH)
    assert other.requests == [] and civitai.requests == []


@pytest.fixture
def closed_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_proxy_down_fails_closed(civitai: FakeCivitai, closed_port: int) -> None:
    with session(civitai, FakeTime(), proxy=f"http://127.0.0.1:{closed_port}") as s, \
            pytest.raises(OnlineError, match="nothing was sent without it") as err:
        s.get_json(civitai.url + BY_HASH)
    assert err.value.reason == "proxy"
    assert civitai.requests == []  # never went direct


def test_socks_proxy_without_pysocks_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(online.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(SettingsError, match="PySocks is not installed"):
        OnlineSettings(proxy="socks5h://127.0.0.1:9050").checked()


def test_socks_without_remote_dns_and_odd_proxies_are_refused() -> None:
    with pytest.raises(SettingsError, match="socks5h"):
        OnlineSettings(proxy="socks5://127.0.0.1:9050").checked()
    with pytest.raises(SettingsError, match="proxy must look like"):
        OnlineSettings(proxy="ftp://127.0.0.1:21").checked()


def test_settings_for_the_hosts_and_the_environment() -> None:
    assert settings_for("civitai.red", "", {}).civitai_url == "https://civitai.red"
    assert settings_for("https://civitai.red", None, {}).civitai_url == "https://civitai.red"
    assert settings_for(None, None, {}).civitai_url == "https://civitai.com"
    env = {online.CIVITAI_URL_ENV: "http://127.0.0.1:1234", online.HF_URL_ENV: "http://127.0.0.1:5678"}
    chosen = settings_for("civitai.red", None, env)
    assert (chosen.civitai_url, chosen.hf_url) == ("http://127.0.0.1:1234", "http://127.0.0.1:5678")
    with pytest.raises(SettingsError):
        settings_for(None, None, {online.CIVITAI_URL_ENV: "file:///etc/passwd"})


def test_rate_limiter_spaces_starts_on_a_fake_clock() -> None:
    t = FakeTime()
    limiter = RateLimiter(2.0, t.clock, t.sleep)
    starts = [limiter.wait() for _ in range(5)]
    assert [b - a for a, b in zip(starts, starts[1:], strict=False)] == [0.5, 0.5, 0.5, 0.5]


def test_rate_limit_is_respected_on_the_wire(civitai: FakeCivitai) -> None:
    """The one test that really waits: 6 requests at 10 per second."""
    settings = OnlineSettings(civitai_url=civitai.url, rate_per_second=10)
    with HardenedSession(settings) as s:
        for _ in range(6):
            s.get_json(civitai.url + BY_HASH)
        sent = list(s.log.sent_at)
    assert len(sent) == len(civitai.requests) == 6
    gaps = [b - a for a, b in zip(sent, sent[1:], strict=False)]
    assert min(gaps) >= 0.1 - 1e-9  # a lower bound only: sleeping never ends early


def test_an_answer_dripped_a_byte_at_a_time_meets_a_deadline(civitai: FakeCivitai) -> None:
    """Each byte within the read timeout, the whole answer never: the lookup gives up at its deadline."""
    import time

    civitai.fail(BY_HASH, Fault.drip(0.1))
    started = time.monotonic()
    with session(civitai, read_timeout=2.0, retries=0, answer_deadline=1.5) as s, pytest.raises(OnlineError) as err:
        s.get_json(civitai.url + BY_HASH)
    assert err.value.reason == "timeout" and "longer than 1.5 s" in str(err.value)
    assert time.monotonic() - started < 30  # without the deadline this answer takes minutes
