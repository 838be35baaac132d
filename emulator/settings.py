"""Configuration of the local cloud emulator: timings, known clients and seeded users."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

DEFAULT_CLIENT_ID = "client_01K6KWQPW6J1M8VV7R3TZP5A6M"
ALICE_EMAIL = "alice@example.com"
BOB_EMAIL = "bob@example.com"


@dataclass(frozen=True)
class EmulatorSettings:
    """How the emulator behaves; every duration is in seconds.

    The defaults follow WorkOS AuthKit (5 s polling interval, five-minute codes and access
    tokens); tests shorten them to keep runs fast.

    >>> EmulatorSettings(interval=0.1).client_ids
    ('client_01K6KWQPW6J1M8VV7R3TZP5A6M',)
    """

    host: str = "127.0.0.1"
    port: int = 0
    interval: float = 5.0
    code_ttl: float = 300.0
    token_ttl: float = 300.0
    # None: a person (or a test) approves; a number: codes approve themselves as the default
    # user that many seconds after issue, for the README demo.
    auto_approve_after: float | None = None
    default_user_subscribed: bool = True
    # RFC 8628 §3.5 fixes the step at 5 s; tests shrink it so slow_down can be seen quickly.
    slow_down_step: float = 5.0
    # A client that sleeps exactly one interval arrives a hair early on a busy machine; this
    # slack (never more than a fifth of the interval) keeps such a client from being punished.
    poll_tolerance: float = 0.2
    extra_client_ids: tuple[str, ...] = ()
    default_email: str = ALICE_EMAIL
    verbose: bool = False
    # None: a fresh random secret per emulator, so tokens never outlive the process.
    jwt_secret: bytes | None = None

    def __post_init__(self) -> None:
        # Emails are compared lower-case everywhere; frozen, so set through object.
        object.__setattr__(self, "default_email", self.default_email.strip().lower())
        if not is_loopback_host(self.host):
            raise ValueError(f"the emulator binds to loopback only, not {self.host!r}")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port out of range: {self.port}")
        for name in ("interval", "code_ttl", "token_ttl", "slow_down_step", "poll_tolerance"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if self.auto_approve_after is not None and self.auto_approve_after < 0:
            raise ValueError("auto_approve_after must not be negative")

    @property
    def client_ids(self) -> tuple[str, ...]:
        """The OAuth client ids the identity provider knows."""
        return (DEFAULT_CLIENT_ID, *self.extra_client_ids)


def is_loopback_host(host: str) -> bool:
    """Tell whether `host` names this machine only, so the emulator is never reachable remotely.

    >>> [is_loopback_host(h) for h in ("127.0.0.1", "::1", "localhost", "0.0.0.0", "10.0.0.1")]
    [True, True, True, False, False]
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
