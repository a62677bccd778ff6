"""The edge's JSON Web Key Set: public keys by ``kid``, read from a file or fetched from a URL.

Refreshed in the background every ``jwks_refresh_s`` (the request that notices the age starts the
refresh and goes on with the keys it has), and at once when a token names a ``kid`` we do not know
(a rotation: the issuer publishes the new key before it signs with it, and keeps the old one until
the old tokens expire, so both are valid meanwhile). Refetches are at most one per
``jwks_min_refetch_s``, so a stream of tokens with made-up kids cannot make the router hammer the
URL. A refresh that fails (unreachable URL, a broken file) keeps the last good key set and is
logged; a key the set cannot use (an unknown ``kty``, a private key) is skipped, not fatal.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any

import httpx
import jwt

from router.settings import AuthenticationSettings

__all__ = ["JwksSource", "parse_jwks"]

logger = logging.getLogger("router.authentication")

_MAX_JWKS_BYTES = 1_000_000


def parse_jwks(document: Any) -> dict[str, jwt.PyJWK]:
    """kid -> key for every usable public signing key of a JWKS document (``{"keys": [...]}``)."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("a JWKS is a JSON object with a 'keys' list")
    keys: dict[str, jwt.PyJWK] = {}
    for entry in document["keys"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
            continue
        if entry.get("use", "sig") != "sig" or "d" in entry:  # encryption keys; never a private key
            continue
        try:
            keys[entry["kid"]] = jwt.PyJWK(entry)
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            logger.warning("JWKS key %r skipped: not a usable signing key", entry.get("kid"))
    return keys


class JwksSource:
    """The current key set plus the refresh rules above. ``generation`` changes whenever the set
    does (the authenticator's memo of verified tokens is dropped then)."""

    def __init__(
        self,
        *,
        file: Path | None = None,
        url: str | None = None,
        refresh_s: float = 300.0,
        min_refetch_s: float = 10.0,
        timeout_s: float = 5.0,
    ) -> None:
        if (file is None) == (url is None):
            raise ValueError("authentication: give exactly one of jwks_file and jwks_url")
        self._file = file
        self._url = url
        self._refresh_s = refresh_s
        self._min_refetch_s = min_refetch_s
        self._timeout_s = timeout_s
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fingerprint: str | None = None
        self.generation = 0
        self._fetched_at = float("-inf")  # monotonic time of the last attempt
        self._loaded = False
        self._lock = asyncio.Lock()
        self._background: asyncio.Task[None] | None = None
        self.fetches = 0
        if file is not None:  # a broken file stops the router at start-up, like any bad setting
            self._install(self._read_file(file))
            self._fetched_at = time.monotonic()

    @classmethod
    def from_settings(cls, settings: AuthenticationSettings) -> JwksSource:
        return cls(
            file=settings.jwks_file,
            url=settings.jwks_url,
            refresh_s=settings.jwks_refresh_s,
            min_refetch_s=settings.jwks_min_refetch_s,
            timeout_s=settings.jwks_timeout_s,
        )

    async def maybe_refresh(self) -> None:
        """Start a background refresh when the set is older than ``refresh_s`` (the first use of a
        URL source waits for it: there are no keys before)."""
        if not self._loaded:
            await self._refetch()
            return
        if time.monotonic() - self._fetched_at >= self._refresh_s and self._background is None:
            self._background = asyncio.create_task(self._refresh_in_background())

    async def key(self, kid: str) -> jwt.PyJWK | None:
        found = self._keys.get(kid)
        if found is None:
            await self._refetch()  # maybe a rotation we have not seen yet
            found = self._keys.get(kid)
        return found

    async def _refresh_in_background(self) -> None:
        try:
            await self._refetch()
        finally:
            self._background = None

    async def _refetch(self) -> None:
        async with self._lock:
            if time.monotonic() - self._fetched_at < self._min_refetch_s:
                return  # the floor: at most one fetch per min_refetch_s, whoever asks
            self._fetched_at = time.monotonic()
            self.fetches += 1
            try:
                document = await self._fetch_url() if self._url is not None else self._read_file(self._file)
                self._install(document)
            except (OSError, ValueError, httpx.HTTPError) as error:
                logger.warning("JWKS refresh failed, keeping %d known key(s): %s", len(self._keys), error)

    def _install(self, document: Any) -> None:
        keys = parse_jwks(document)
        fingerprint = json.dumps(document, sort_keys=True)
        self._loaded = True
        if fingerprint != self._fingerprint:
            self._keys = keys
            self._fingerprint = fingerprint
            self.generation += 1

    @staticmethod
    def _read_file(path: Path | None) -> Any:
        assert path is not None
        text = path.read_bytes()[:_MAX_JWKS_BYTES]
        return json.loads(text)

    async def _fetch_url(self) -> Any:
        assert self._url is not None
        async with httpx.AsyncClient(timeout=self._timeout_s, follow_redirects=False) as client:
            response = await client.get(self._url, headers={"accept": "application/json"})
        if response.status_code != 200:
            raise ValueError(f"{self._url} answered HTTP {response.status_code}")
        if len(response.content) > _MAX_JWKS_BYTES:
            raise ValueError(f"{self._url} sent more than {_MAX_JWKS_BYTES} bytes")
        return response.json()
