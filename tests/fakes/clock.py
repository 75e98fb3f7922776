"""A clock that only moves when the code under test sleeps: back-off and rate limits are checked, not waited for."""

from __future__ import annotations


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
