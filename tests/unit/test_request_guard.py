"""Who may call the state-changing routes (the e2e hostile suite replays the same requests on a real server)."""
from __future__ import annotations

import pytest
from multidict import CIMultiDict

from services.server.request_guard import PACK_HEADER, own_host, refusal

JSON = {"Content-Type": "application/json"}


def check(method: str = "POST", listen: tuple[str, ...] = (), **headers: str) -> str | None:
    return refusal(method, CIMultiDict({k.replace("_", "-"): v for k, v in headers.items()}), listen)


def test_the_editor_and_local_scripts_pass() -> None:
    assert check(Host="127.0.0.1:8188", Origin="http://127.0.0.1:8188", Content_Type="application/json") is None
    assert check(Host="localhost:8188", Content_Type="application/json; charset=utf-8") is None  # curl, Python
    assert check(Host="[::1]:8188", Origin="http://[::1]:8188", Content_Type="application/json") is None
    assert check(Host="192.168.1.20:8188", Origin="http://192.168.1.20:8188", Content_Type="application/json") is None
    assert check("DELETE", Host="127.0.0.1:8188", Origin="http://127.0.0.1:8188") is None
    assert check(Host="127.0.0.1:8188", **{PACK_HEADER.replace("-", "_"): "1"}) is None
    assert check(Host="studio:8188", Origin="http://studio:8188", Content_Type="application/json",
                 listen=("studio",)) is None


@pytest.mark.parametrize("origin", ["null", "", "file://", "file:///home/x/page.html", "http://evil.example",
                                    "http://127.0.0.1:9999", "chrome-extension://abc"])
def test_foreign_null_and_file_origins_are_refused(origin: str) -> None:
    assert check(Host="127.0.0.1:8188", Origin=origin, Content_Type="application/json")


def test_a_rebinding_host_and_simple_requests_are_refused() -> None:
    rebinding = check(Host="evil.example:8188", Origin="http://evil.example:8188", Content_Type="application/json")
    assert rebinding and "not this server's address" in rebinding
    assert check(Host="127.0.0.1:8188", Origin="http://127.0.0.1:8188", Content_Type="text/plain")
    assert check(Host="127.0.0.1:8188", Content_Type="application/x-www-form-urlencoded")
    assert check(Host="127.0.0.1:8188")  # an empty POST is a simple request too
    assert check(Host="127.0.0.1:8188", Content_Type="application/json", Sec_Fetch_Site="cross-site")
    assert check(Host="", Content_Type="application/json")


def test_own_host() -> None:
    assert own_host("127.0.0.1") and own_host("localhost:1") and own_host("app.localhost") and own_host("[::1]:80")
    assert not own_host("example.com") and not own_host("127.0.0.1.nip.io:8188") and not own_host("")
