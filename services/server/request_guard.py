"""Who may call the pack's state-changing routes: the editor and scripts on this machine, not any web page.

A page on another site can send a "simple" request (text/plain, no preflight) to ComfyUI on 127.0.0.1; a
DNS-rebinding page even arrives with an Origin equal to its Host. So a change is accepted only when:
- the Host names this server (an IP address, localhost, this machine's name, or the `--listen` name), which a
  rebinding domain cannot;
- an Origin, when sent (browsers always send one with a POST), is http(s) with that same host and port: never
  `null`, empty or `file://`;
- a POST comes as JSON (or with the pack's header), even an empty one: both force a browser to ask first, and ComfyUI sends no
  CORS permission, so a foreign page's request never arrives.
Scripts (curl, Python) send no Origin and pass when they set the content type.
"""
from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Mapping
from functools import lru_cache
from urllib.parse import urlsplit

PACK_HEADER = "X-Intelligent-Generation"


@lru_cache(maxsize=1)
def _machine_names() -> frozenset[str]:
    names = {"localhost"}
    try:
        host = socket.gethostname().lower()
        names |= {host, host.split(".")[0]}
        names.add(socket.getfqdn().lower())
    except OSError:
        pass
    return frozenset(n for n in names if n)


def _host_name(netloc: str) -> str:
    """The host of `host:port`, `[v6]:port` or a bare host, lower-case."""
    text = netloc.strip().lower()
    if text.startswith("["):
        return text[1:text.find("]")] if "]" in text else text
    return text.rsplit(":", 1)[0] if text.count(":") == 1 else text


def own_host(host: str, listen: Iterable[str] = ()) -> bool:
    """Whether a Host header names this server rather than someone's domain."""
    name = _host_name(host).rstrip(".")
    if not name:
        return False
    try:
        ipaddress.ip_address(name)
        return True  # an address cannot be rebound
    except ValueError:
        pass
    listened = {n.strip().lower() for item in listen for n in item.split(",") if n.strip()}
    return name in _machine_names() or name.endswith(".localhost") or name in listened


def refusal(method: str, headers: Mapping[str, str], listen: Iterable[str] = ()) -> str | None:
    """Why this request may not change anything, or None. `headers` is case-insensitive (aiohttp's)."""
    host = headers.get("Host", "")
    if not own_host(host, listen):
        return (f"Host {host!r} is not this server's address; a change is accepted only from the editor or a "
                "script on this machine (open ComfyUI by its IP address or localhost)")
    origin = headers.get("Origin")
    if origin is not None:
        parts = urlsplit(origin.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return f"requests from the origin {origin!r} are refused; use the ComfyUI editor"
        if parts.netloc.lower() != host.strip().lower():
            return f"requests from another site ({origin}) are refused; use the ComfyUI editor"
    if headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
        return "requests from another site are refused; use the ComfyUI editor"
    if method.upper() in ("POST", "PUT", "PATCH"):  # an empty body is a "simple" request too
        content_type = headers.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type != "application/json" and PACK_HEADER not in headers:
            return "the body must be sent as Content-Type: application/json"
    return None
