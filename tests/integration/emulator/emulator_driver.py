"""Test driver for the emulator: PKCE pairs and the device-flow requests the CLI makes."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import ssl
from dataclasses import dataclass
from typing import Any

import httpx

from emulator import DEFAULT_CLIENT_ID, CloudEmulator, EmulatorSettings

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
# Short timings keep every test well under a second of waiting.
FAST = EmulatorSettings(interval=0.05, code_ttl=5.0, token_ttl=60.0, slow_down_step=0.1)


# One TLS context for every test client: building one per client costs about 25 ms, and these
# clients only ever speak plain HTTP to 127.0.0.1.
_TLS = ssl.create_default_context()


def http_client(base_url: str, timeout: float = 5.0) -> httpx.Client:
    """An httpx client for an emulator, cheap to create."""
    return httpx.Client(base_url=base_url, timeout=timeout, verify=_TLS)


def pkce_pair() -> tuple[str, str]:
    """A fresh (verifier, S256 challenge) pair."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def jwt_claims(token: object) -> dict[str, Any]:
    """The claims of a JWT, read the way a client reads them (no signature check)."""
    payload = str(token).split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


@dataclass
class Started:
    """A device authorization and the PKCE verifier that goes with it."""

    body: dict[str, object]
    verifier: str

    @property
    def device_code(self) -> str:
        return str(self.body["device_code"])

    @property
    def user_code(self) -> str:
        return str(self.body["user_code"])


@dataclass
class DeviceFlow:
    """Drives the identity provider endpoints the way the CLI does."""

    client: httpx.Client
    emulator: CloudEmulator

    def start(self, client_id: str = DEFAULT_CLIENT_ID) -> Started:
        verifier, challenge = pkce_pair()
        response = self.client.post(
            "/oauth2/device_authorization",
            data={
                "client_id": client_id,
                "scope": "openid profile email offline_access",
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            },
        )
        assert response.status_code == 200, response.text
        return Started(response.json(), verifier)

    def poll(self, started: Started, verifier: str | None = None) -> httpx.Response:
        return self.client.post(
            "/oauth2/token",
            data={
                "grant_type": DEVICE_GRANT,
                "device_code": started.device_code,
                "client_id": DEFAULT_CLIENT_ID,
                "code_verifier": started.verifier if verifier is None else verifier,
            },
        )

    def login(self, email: str | None = None) -> dict[str, Any]:
        started = self.start()
        self.emulator.approve(started.user_code, email)
        response = self.poll(started)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def refresh(self, refresh_token: object, client_id: str = DEFAULT_CLIENT_ID) -> httpx.Response:
        return self.client.post(
            "/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": str(refresh_token),
                "client_id": client_id,
            },
        )

    def health(self, credential: object) -> httpx.Response:
        return self.client.get("/proxy/health", headers={"Authorization": f"Bearer {credential}"})
