"""The one HTTP session every online lookup goes through, hardened for privacy and politeness.

What leaves the machine is the URL and body the caller builds (hashes, ids from earlier answers)
plus a fixed set of headers: no proxy variables or `~/.netrc` credentials (`trust_env` off), no
cookies (a policy that stores nothing), no Authorization header (the one exception: a download's
CivitAI API key, sent as a `Secret` to CivitAI's own host only), a User-Agent that is the same for
every user and version. Answers are checked before they are trusted: TLS verified, size capped
while streaming, JSON required (Cloudflare challenges arrive as HTML), redirects followed only to
the configured hosts. Requests are spaced by a rate limit and retried with back-off on 429 and 5xx.

`requests` is imported when a session is built, never at import time.
"""

from __future__ import annotations

import email.utils
import http.cookiejar
import importlib.util
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

if TYPE_CHECKING:
    import requests

log = logging.getLogger(__name__)

# The same for every user and every version of the pack: it tells the server nothing about the
# machine (requests' default names its own and Python's versions).
USER_AGENT = "Mozilla/5.0 (compatible)"

CIVITAI_HOSTS = {"civitai.com": "https://civitai.com", "civitai.red": "https://civitai.red"}
DEFAULT_CIVITAI_URL = CIVITAI_HOSTS["civitai.com"]
DEFAULT_HF_URL = "https://huggingface.co"
PROXY_SCHEMES = ("socks5h", "http", "https")
# Documented user settings (README, "Online lookups"): a mirror, or a local server for tests.
CIVITAI_URL_ENV = "INTELLIGENT_GENERATION_CIVITAI_URL"
HF_URL_ENV = "INTELLIGENT_GENERATION_HF_URL"
MAX_REDIRECTS = 3
# Where a model download may be redirected besides the configured hosts (https, port 443 only): CivitAI
# answers /api/download/models/{id} with a signed URL on its Cloudflare R2 bucket or on b2.civitai.com;
# Hugging Face's /resolve/ URLs go to its CDN and Xet storage (cdn-lfs*.hf.co, cas-bridge.xethub.hf.co ...).
# "*.domain" matches subdomains; an entry with a scheme ("http://127.0.0.1:8000") matches that origin only.
DOWNLOAD_HOSTS = (
    "*.civitai.com",
    "*.civitai.red",
    "civitai-delivery-worker-prod.5ac0637cfd0766c97916cefa3764fbdf.r2.cloudflarestorage.com",
    "*.hf.co",
    "*.huggingface.co",
)


class OnlineError(Exception):
    """A lookup that produced no usable answer. `reason` is a short machine-readable word."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class SettingsError(ValueError):
    """Online settings that cannot be used safely (nothing was sent)."""


@dataclass(frozen=True)
class OnlineSettings:
    civitai_url: str = DEFAULT_CIVITAI_URL
    hf_url: str = DEFAULT_HF_URL
    proxy: str | None = None  # socks5h://host:port (Tor: socks5h://127.0.0.1:9050) or http(s)://host:port
    rate_per_second: float = 1.0
    connect_timeout: float = 5.0
    read_timeout: float = 30.0  # between two bytes
    answer_deadline: float = 60.0  # for a whole lookup answer: a server dripping a byte every few seconds stops here
    min_download_rate: int = 64 * 1024  # bytes per stall_window_s: a download slower is cut (and resumable)
    stall_window_s: float = 60.0
    max_response_bytes: int = 16 * 1024 * 1024  # 100 model versions with example images fit easily
    retries: int = 5  # after the first attempt, on 429, 5xx, timeouts and refused connections
    backoff_start: float = 1.0
    backoff_max: float = 30.0
    found_ttl_s: float = 24 * 3600.0
    not_found_ttl_s: float = 7 * 24 * 3600.0
    download_hosts: tuple[str, ...] = DOWNLOAD_HOSTS  # see DOWNLOAD_HOSTS; only for downloads

    def origins(self) -> list[str]:
        return [origin(self.civitai_url), origin(self.hf_url)]

    def checked(self) -> OnlineSettings:
        for url in (self.civitai_url, self.hf_url):
            parts = urlsplit(url)
            if parts.scheme not in ("https", "http") or not parts.hostname or parts.username or parts.password:
                raise SettingsError(f"not a usable base URL: {url!r} (expected https://host)")
        if self.rate_per_second <= 0:
            raise SettingsError("the rate must be above 0 requests per second")
        if self.proxy:
            check_proxy(self.proxy)
        return self


def settings_for(host: str | None, proxy: str | None, environ: Mapping[str, str]) -> OnlineSettings:
    """Settings inside ComfyUI: the chosen CivitAI host ("civitai.red" or its URL), the proxy, and the
    base-URL environment variables, which win over the host when set."""
    civitai = CIVITAI_HOSTS.get(host or "", host if host in CIVITAI_HOSTS.values() else DEFAULT_CIVITAI_URL)
    return OnlineSettings(
        civitai_url=environ.get(CIVITAI_URL_ENV) or civitai or DEFAULT_CIVITAI_URL,
        hf_url=environ.get(HF_URL_ENV) or DEFAULT_HF_URL,
        proxy=proxy or None,
    ).checked()


def origin(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme, 0)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def download_host_allowed(url: str, settings: OnlineSettings) -> bool:
    """A configured host, or one of the services' download hosts (settings.download_hosts)."""
    if origin(url) in settings.origins():
        return True
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    for entry in settings.download_hosts:
        if "://" in entry:
            if origin(entry) == origin(url):
                return True
        elif parts.scheme == "https" and (parts.port or 443) == 443 and host and (
                host == entry.lower() or entry.startswith("*.") and host.endswith(entry[1:].lower())):
            return True
    return False


@dataclass(frozen=True)
class Secret:
    """A credential for one origin only (CivitAI's API key as a header): added to requests to that origin,
    never to another host (a redirect to storage drops it), never part of a message or log line."""

    origin: str
    header: str
    value: str = field(repr=False)


def check_proxy(proxy: str) -> None:
    """Refuse a proxy that could not be used as configured, before anything is sent."""
    scheme = urlsplit(proxy).scheme.lower()
    if scheme == "socks5":
        raise SettingsError("use socks5h:// rather than socks5://, so host names are resolved by the proxy, not here")
    if scheme not in PROXY_SCHEMES or not urlsplit(proxy).hostname:
        raise SettingsError(f"proxy must look like socks5h://host:port or http://host:port, not {proxy!r}")
    if scheme.startswith("socks") and importlib.util.find_spec("socks") is None:
        raise SettingsError(
            "a SOCKS proxy is set but PySocks is not installed (pip install 'requests[socks]'); "
            "nothing was sent, and nothing will be sent without the proxy"
        )


class RateLimiter:
    """At most `per_second` starts per second, across threads: each waits for its slot."""

    def __init__(self, per_second: float, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next = float("-inf")
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Wait for the next slot; returns the time it starts (by the limiter's clock)."""
        with self._lock:
            now = self._clock()
            if now < self._next:
                self._sleep(self._next - now)
                now = max(self._clock(), self._next)
            self._next = now + self.interval
            return now


_shared: dict[float, RateLimiter] = {}
_shared_lock = threading.Lock()


def shared_limiter(per_second: float) -> RateLimiter:
    """One limiter per rate for the whole process: the node and the web UI's button share the budget."""
    with _shared_lock:
        if per_second not in _shared:
            _shared[per_second] = RateLimiter(per_second, time.monotonic, time.sleep)
        return _shared[per_second]


class _StoreNothing(http.cookiejar.DefaultCookiePolicy):
    """No cookie is ever kept or sent: every request looks like a first visit."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def domain_return_ok(self, domain: str, request: Any) -> bool:
        return False

    def path_return_ok(self, path: str, request: Any) -> bool:
        return False


def _NoRedirectSession() -> requests.Session:  # noqa: N802 (a class built on first use: requests is imported late)
    import requests

    class NoRedirectSession(requests.Session):
        """Redirects are followed by hand, host by host (see HardenedSession). requests would otherwise
        read a redirect's whole body, uncapped, to prepare a next request we never send."""

        def get_redirect_target(self, resp: requests.Response) -> str | None:
            return None

    return NoRedirectSession()


@dataclass
class Answer:
    status: int
    data: Any  # parsed JSON for 2xx; None for an "absent" status (404: not found)


@dataclass
class SessionLog:
    """What this session sent: counted for the summary, timed for the rate-limit check."""

    requests: int = 0
    sent_at: list[float] = field(default_factory=list)


def _retry_after(value: str | None, now: float) -> float | None:
    """Seconds from a Retry-After header: a number or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


class HardenedSession:
    """GET and POST JSON through one locked-down `requests.Session` (see the module docstring)."""

    def __init__(
        self,
        settings: OnlineSettings,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings.checked()
        self.log = SessionLog()
        self._allowed = set(settings.origins())
        self._clock = clock
        self._sleep = sleep
        self._wall_clock = wall_clock
        real_time = clock is time.monotonic and sleep is time.sleep
        self._limiter = shared_limiter(settings.rate_per_second) if real_time else \
            RateLimiter(settings.rate_per_second, clock, sleep)
        self._blocked_until = float("-inf")  # a Retry-After longer than we wait holds every later request
        self._lock = threading.Lock()
        session = _NoRedirectSession()
        session.trust_env = False  # no *_PROXY / NO_PROXY variables, no ~/.netrc credentials
        session.auth = None
        session.cookies.set_policy(_StoreNothing())
        session.headers.clear()
        session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json",
                                "Accept-Encoding": "gzip, deflate"})
        if settings.proxy:
            session.proxies = {"http": settings.proxy, "https": settings.proxy}
        self._session = session

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> HardenedSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_json(self, url: str, absent: Iterable[int] = (404,)) -> Answer:
        return self._request("GET", url, None, tuple(absent))

    def post_json(self, url: str, body: Any, absent: Iterable[int] = (404,)) -> Answer:
        return self._request("POST", url, json.dumps(body).encode(), tuple(absent))

    def _check_url(self, url: str) -> None:
        if origin(url) not in self._allowed:
            raise OnlineError("host", f"refused to contact {urlsplit(url).hostname}: not a configured host")

    def _request(self, method: str, url: str, body: bytes | None, absent: tuple[int, ...]) -> Answer:
        import requests

        self._check_url(url)
        delay = self.settings.backoff_start
        attempt = 0
        while True:
            try:
                outcome = self._attempt(method, url, body, absent, last=attempt >= self.settings.retries)
            except requests.exceptions.ProxyError as exc:
                raise OnlineError("proxy", f"the proxy did not answer ({_short(exc)}); nothing was sent without it") from exc
            except requests.exceptions.SSLError as exc:
                raise OnlineError("tls", f"TLS verification failed ({_short(exc)})") from exc
            except (requests.exceptions.Timeout, requests.exceptions.ConnectionError,
                    requests.exceptions.ChunkedEncodingError) as exc:
                reason = "timeout" if isinstance(exc, requests.exceptions.Timeout) or "timed out" in str(exc) \
                    else "connection"
                if attempt >= self.settings.retries:
                    via = "; through the proxy, nothing was sent without it" if self.settings.proxy else ""
                    raise OnlineError(reason, f"{reason} after {attempt + 1} attempts{via} ({_short(exc)})") from exc
                outcome = None
            if isinstance(outcome, Answer):
                return outcome
            wait = delay if outcome is None else outcome
            log.info("Intelligent Generation: retrying %s in %.1f s", urlsplit(url).path, wait)
            self._sleep(wait)
            delay = min(delay * 2, self.settings.backoff_max)
            attempt += 1

    def _attempt(self, method: str, url: str, body: bytes | None, absent: tuple[int, ...],
                 last: bool) -> Answer | float | None:
        """One request: its answer, or seconds to wait before the next attempt (None: the usual back-off)."""
        with self._send_following_redirects(method, url, body) as response:
            status = response.status_code
            if status == 429 or status >= 500:
                hinted = _retry_after(response.headers.get("Retry-After"), self._wall_clock())
                if hinted is not None and hinted > self.settings.backoff_max:
                    with self._lock:
                        self._blocked_until = max(self._blocked_until, self._clock() + hinted)
                    raise OnlineError("rate_limited", f"HTTP {status}: the server asks to wait {hinted:.0f} s")
                if last:
                    raise OnlineError("http", f"HTTP {status} after {self.settings.retries + 1} attempts")
                return hinted
            if status in absent:
                return Answer(status, None)
            if 200 <= status < 300:
                return Answer(status, self._read_json(response))
            raise OnlineError("http", f"HTTP {status}")

    def _send_following_redirects(
        self, method: str, url: str, body: bytes | None, headers: dict[str, str] | None = None,
        allowed: Callable[[str], bool] | None = None, secret: Secret | None = None,
    ) -> requests.Response:
        permitted = allowed or (lambda target: origin(target) in self._allowed)
        for _ in range(MAX_REDIRECTS + 1):
            response = self._send_once(method, url, body, headers, secret)
            if response.status_code not in (301, 302, 303, 307, 308) or method != "GET":
                return response
            target = urljoin(url, response.headers.get("Location", ""))
            response.close()
            if not permitted(target):
                raise OnlineError("redirect", f"refused a redirect to another host ({urlsplit(target).hostname})")
            url = target
        raise OnlineError("redirect", f"more than {MAX_REDIRECTS} redirects")

    def open_download(self, url: str, offset: int = 0, secret: Secret | None = None,
                      from_download_host: bool = False) -> requests.Response:
        """GET a file as a stream, from byte `offset` on (a Range request), for the caller to read and close.

        The first URL must be a configured host (with `from_download_host`, one of the services' download
        hosts); redirects are followed to those and to the download hosts only. `secret` is sent only to its own origin. No compression is asked for, so
        offsets are file offsets. Waits and retries as get_json does (429, 5xx, refused connections);
        answers 200, 206, or 416 (nothing left after `offset`); else raises OnlineError: "auth" for 401
        and 403, "not_found" for 404 and 410, "http" for the rest.
        """
        import requests

        if not from_download_host:
            self._check_url(url)
        elif not download_host_allowed(url, self.settings):  # an example image: CivitAI's image host
            raise OnlineError("host", f"refused to contact {urlsplit(url).hostname}: not a download host")
        headers = {"Accept": "*/*", "Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        delay = self.settings.backoff_start
        attempt = 0
        while True:
            last = attempt >= self.settings.retries
            wait: float | None = None
            try:
                response = self._send_following_redirects(
                    "GET", url, None, headers, lambda target: download_host_allowed(target, self.settings), secret)
            except requests.exceptions.ProxyError as exc:
                raise OnlineError("proxy", f"the proxy did not answer ({_short(exc)}); nothing was sent without it") from exc
            except requests.exceptions.SSLError as exc:
                raise OnlineError("tls", f"TLS verification failed ({_short(exc)})") from exc
            except (requests.exceptions.Timeout, requests.exceptions.ConnectionError) as exc:
                if last:
                    raise OnlineError("connection", f"no connection after {attempt + 1} attempts ({_short(exc)})") from exc
            else:
                status = response.status_code
                if status in (200, 206) or status == 416 and offset:
                    return response
                response.close()
                if status == 429 or status >= 500:
                    wait = _retry_after(response.headers.get("Retry-After"), self._wall_clock())
                    if wait is not None and wait > self.settings.backoff_max:
                        with self._lock:
                            self._blocked_until = max(self._blocked_until, self._clock() + wait)
                        raise OnlineError("rate_limited", f"HTTP {status}: the server asks to wait {wait:.0f} s")
                    if last:
                        raise OnlineError("rate_limited" if status == 429 else "http",
                                          f"HTTP {status} after {self.settings.retries + 1} attempts")
                elif status in (401, 403):
                    raise OnlineError("auth", f"HTTP {status}")
                elif status in (404, 410):
                    raise OnlineError("not_found", f"HTTP {status}")
                else:
                    raise OnlineError("http", f"HTTP {status}")
            pause = delay if wait is None else wait
            log.info("Intelligent Generation: retrying a download in %.1f s", pause)
            self._sleep(pause)
            delay = min(delay * 2, self.settings.backoff_max)
            attempt += 1

    def pause(self, seconds: float) -> None:
        """Wait by this session's clock (tests pass a fake one): a downloader's back-off between resumptions."""
        self._sleep(seconds)

    def _send_once(self, method: str, url: str, body: bytes | None, extra: dict[str, str] | None = None,
                   secret: Secret | None = None) -> requests.Response:
        with self._lock:
            blocked = self._blocked_until - self._clock()
        if blocked > 0:
            raise OnlineError("rate_limited", f"the server asked to wait; {blocked:.0f} s left")
        start = self._limiter.wait()
        with self._lock:
            self.log.requests += 1
            self.log.sent_at.append(start)
        headers = {"Content-Type": "application/json"} if body is not None else None
        if extra or secret:
            headers = {**(headers or {}), **(extra or {})}
            if secret is not None and origin(url) == secret.origin:
                headers[secret.header] = secret.value
        return self._session.request(
            method, url, data=body, headers=headers, stream=True, allow_redirects=False, verify=True,
            timeout=(self.settings.connect_timeout, self.settings.read_timeout),
        )

    def _read_json(self, response: requests.Response) -> Any:
        import requests
        import urllib3

        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if not (content_type == "application/json" or content_type.endswith("+json")):
            raise OnlineError("not_json", f"the answer is {content_type or 'untyped'}, not JSON "
                              "(a challenge page or an error page)")
        cap = self.settings.max_response_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > cap:
            raise OnlineError("too_large", f"the answer is larger than {cap // 1024} KiB")
        chunks: list[bytes] = []
        size = 0
        with Watchdog(response, lambda elapsed, _received: elapsed > self.settings.answer_deadline) as dog:
            try:
                for chunk in response.iter_content(64 * 1024):  # decompressed bytes: a gzip bomb stops here too
                    size += len(chunk)
                    if size > cap:
                        raise OnlineError("too_large", f"the answer is larger than {cap // 1024} KiB")
                    chunks.append(chunk)
            except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
                if dog.fired:
                    raise OnlineError("timeout", f"the answer took longer than {self.settings.answer_deadline:g} s "
                                      "(a server dripping bytes)") from exc
                raise
        if dog.fired:
            raise OnlineError("timeout", f"the answer took longer than {self.settings.answer_deadline:g} s")
        try:
            return json.loads(b"".join(chunks))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise OnlineError("bad_json", "the answer is not valid JSON") from exc
        except RecursionError as exc:  # nested thousands deep: this answer fails, not the whole job
            raise OnlineError("bad_json", "the answer is nested too deep to read") from exc


class Watchdog:
    """Cuts a streamed response when `stalled(elapsed_s, received_bytes)` says so, checked every second: a
    read blocked on a server that drips bytes (each within the read timeout) then fails at once. The reader
    reports progress with `received`; `fired` says why its read failed."""

    def __init__(self, response: Any, stalled: Callable[[float, int], bool], every: float = 1.0) -> None:
        self.response, self.stalled, self.every = response, stalled, every
        self.received = 0
        self.fired = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True, name="ig-watchdog")

    def __enter__(self) -> Watchdog:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(self.every):
            if self.stalled(time.monotonic() - self._started, self.received):
                self.fired = True
                # Closing the response from here would wait on the reader's lock; shutting the socket down wakes
                # the blocked read at once (it then fails as a cut answer, in the reader's own thread).
                sock = _socket_of(self.response)
                try:
                    if sock is not None:
                        sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return


def _socket_of(response: Any) -> socket.socket | None:
    """The socket under a streamed requests/urllib3 response (urllib3 keeps it in different places)."""
    raw = getattr(response, "raw", None)
    sock = getattr(getattr(raw, "_connection", None), "sock", None)
    if sock is None:
        reader = getattr(getattr(raw, "_fp", None), "fp", None)
        sock = getattr(getattr(reader, "raw", None), "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


def too_slow(rate: int, window: float) -> Callable[[float, int], bool]:
    """For a download: fewer than `rate` bytes in any `window` seconds (checked once per window)."""
    mark = [0.0, 0]  # the last check: when, and how much had arrived by then

    def stalled(elapsed: float, received: int) -> bool:
        since, then = mark
        if elapsed - since < window:
            return False
        mark[:] = [elapsed, received]
        return received - then < rate

    return stalled


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 200 else text[:200] + "..."
