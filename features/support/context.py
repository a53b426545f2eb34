"""What one scenario remembers between its steps."""

from __future__ import annotations

from dataclasses import dataclass, field

from opcp.client import Exchange


@dataclass
class Scenario:
    role: str | None = None
    party: int = 0
    token: str | None = None  # an explicit token overrides the role's own
    anonymous: bool = False
    last: Exchange | None = None
    saved: dict = field(default_factory=dict)
    cleanups: list = field(default_factory=list)  # callables run after the scenario

    def __repr__(self) -> str:
        # Allure records step arguments by their repr: never show tokens or saved material.
        return f"Scenario(role={self.role!r}, party={self.party})"

    @property
    def response(self) -> Exchange:
        assert self.last is not None, "no request was sent yet in this scenario"
        return self.last
