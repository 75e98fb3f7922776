"""What a command shows on a terminal while it works."""

from __future__ import annotations

from typing import Any


class TerminalLine:
    """One self-overwriting line on a terminal stream, redrawn only when the shown text changes."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.last = ""

    def show(self, text: str, redraw_key: str | None = None) -> None:
        """`redraw_key`: the part of the text whose change is worth a redraw (default: all of it)."""
        if (redraw_key or text) != (self._key or self.last):
            self.stream.write("\r" + text.ljust(len(self.last)))
            self.stream.flush()
            self.last = text
            self._key = redraw_key

    _key: str | None = None

    def end(self) -> None:
        if self.last:
            self.stream.write("\n")
            self.stream.flush()
