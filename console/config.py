"""The console needs where the service is, the key to reach it (DESIGN §2) and how people sign in (§14)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ConsoleSettings:
    #: where `web` answers when CALLBRIDGE_API_URL is unset (DESIGN §2): the console is its only reader
    api_url: str = "http://127.0.0.1:8000"
    api_key: str | None = None
    refresh_s: int = 10
    #: the sign-in password when no OIDC provider is configured (`[auth]` in .streamlit/secrets.toml)
    password: str | None = None


_DEFAULTS = ConsoleSettings()


def load_console_settings(environ: Mapping[str, str] | None = None) -> ConsoleSettings:
    env = os.environ if environ is None else environ
    refresh = env.get("CALLBRIDGE_CONSOLE_REFRESH_S", "").strip() or str(_DEFAULTS.refresh_s)
    if not refresh.isdigit() or int(refresh) < 1:
        raise ValueError(f"CALLBRIDGE_CONSOLE_REFRESH_S must be a whole number of seconds, got {refresh!r}")
    return ConsoleSettings(
        api_url=(env.get("CALLBRIDGE_API_URL", "").strip() or _DEFAULTS.api_url).rstrip("/"),
        api_key=env.get("CALLBRIDGE_API_KEY", "").strip() or None,
        refresh_s=int(refresh),
        password=env.get("CALLBRIDGE_CONSOLE_PASSWORD", "") or None,
    )
