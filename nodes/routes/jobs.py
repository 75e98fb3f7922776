"""One job at a time of each kind the routes start (a download; a metadata fetch, an update check, a duplicate
search): its state for polling, and with somewhere to send them, each change as a server event."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any

from ..comfy import Notify

log = logging.getLogger(__name__)

class Jobs:
    """The last job's state (`status`); `begin` refuses a second one while one runs. With `notify`, each change
    goes out as the server event `event`, holding the state's `event_keys`."""

    def __init__(self, notify: Notify | None = None, event: str = "", event_keys: tuple[str, ...] = ()) -> None:
        self.notify, self.event, self.event_keys = notify, event, event_keys
        self._lock = threading.Lock()
        self.current: dict[str, Any] | None = None

    def status(self) -> dict[str, Any] | None:
        with self._lock:
            return dict(self.current) if self.current else None

    def begin(self, what: str, **fields: Any) -> dict[str, Any] | None:
        """A new job, or None while another runs."""
        with self._lock:
            if self.current and self.current["state"] == "running":
                return None
            self.current = {"job": uuid.uuid4().hex, "state": "running", "what": what, **fields, "error": None,
                            "started_at": time.time()}
            return dict(self.current)

    def update(self, **changes: Any) -> None:
        with self._lock:
            assert self.current is not None
            self.current.update(changes)
            event = {k: self.current.get(k) for k in self.event_keys}
        if self.notify is None or not self.event_keys:
            return
        try:
            self.notify(self.event, event)
        except Exception:  # a closed socket must not stop the job
            log.exception("Intelligent Generation: progress event not sent")

    def end(self, **changes: Any) -> None:
        self.update(**changes, finished_at=time.time())
