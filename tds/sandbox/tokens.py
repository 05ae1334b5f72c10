"""Access tokens as Zoho Accounts grants them: expiring, and rationed per
refresh token (10 grants in 10 minutes by default)."""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque

from tds.sandbox.config import SandboxConfig


class TokenBook:
    """Grants, checks and expires access tokens; thread-safe."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.expiry: dict[str, float] = {}
        self.grants: dict[str, deque[float]] = {}

    def grant(self, refresh_token: str) -> str | None:
        """A new access token, or None when this refresh token used up its window.

        Only successful grants count towards the window: an unknown refresh
        token or a refused request does not use the ration up.
        """
        with self.lock:
            moment = time.monotonic()
            recent = self.grants.setdefault(refresh_token, deque())
            while recent and recent[0] <= moment - self.config.token_window:
                recent.popleft()
            if len(recent) >= self.config.token_requests_per_10min:
                return None
            recent.append(moment)
            token = "1000." + secrets.token_hex(16) + "." + secrets.token_hex(16)
            self.expiry[token] = moment + self.config.token_ttl
            return token

    def valid(self, token: str) -> bool:
        with self.lock:
            expires = self.expiry.get(token)
            return expires is not None and expires > time.monotonic()

    def expire_all(self) -> int:
        """Expire every token now (a forced 401 for tests); returns how many."""
        with self.lock:
            count = len(self.expiry)
            self.expiry.clear()
            return count
