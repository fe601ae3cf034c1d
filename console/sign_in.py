"""Who may use the console (DESIGN §14): every visitor acts with the service's API key, so none gets in unasked.

- OIDC through Streamlit's `st.login` when `.streamlit/secrets.toml` has an `[auth]` section;
- otherwise `CALLBRIDGE_CONSOLE_PASSWORD`: a password form, compared in constant time, remembered
  for the browser session;
- with neither, the console serves only on a loopback address (the demo), under a banner saying so,
  and refuses any other address.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from enum import Enum
from typing import Any

import streamlit as st

from shared.settings import is_loopback_host

SIGNED_IN = "console_signed_in"


class Guard(Enum):
    oidc = "oidc"
    password = "password"
    #: loopback and no sign-in configured: the demo
    unprotected = "unprotected"
    #: reachable from other machines and no sign-in configured
    refused = "refused"


def choose_guard(*, address: str | None, password: str | None, oidc: bool) -> Guard:
    if oidc:
        return Guard.oidc
    if password:
        return Guard.password
    # Streamlit serves every interface when `server.address` is unset, so unset is not loopback
    return Guard.unprotected if is_loopback_host(address) else Guard.refused


@dataclass(frozen=True)
class SignIn:
    guard: Guard
    password: str | None

    def admit(self) -> bool:
        """Draw what the guard needs (form, button, banner); True when the page may show the console."""
        if self.guard is Guard.refused:
            st.error(
                "**The console refuses to serve.** It is reachable beyond this machine "
                f"(server.address {st.get_option('server.address') or 'unset: every interface'}) and "
                "nobody has to sign in. Set CALLBRIDGE_CONSOLE_PASSWORD, configure `[auth]` (OIDC) in "
                ".streamlit/secrets.toml, or serve on 127.0.0.1 (`CONSOLE_ADDRESS`)."
            )
            return False
        if self.guard is Guard.unprotected:
            st.warning(
                "**This console is unprotected:** anyone who can open this page acts with the service's API key. "
                "It serves on a loopback address only; set CALLBRIDGE_CONSOLE_PASSWORD or configure OIDC "
                "before exposing it."
            )
            return True
        if self.guard is Guard.oidc:
            return _admit_oidc()
        return self._admit_password()

    def _admit_password(self) -> bool:
        if st.session_state.get(SIGNED_IN):
            if st.sidebar.button("Sign out", key="sign_out"):
                st.session_state[SIGNED_IN] = False
                st.rerun()
            return True
        with st.form("sign_in"):
            entered = st.text_input("Console password", type="password", key="console_password")
            submitted = st.form_submit_button("Sign in")
        if submitted:
            assert self.password is not None
            if hmac.compare_digest(entered.encode(), self.password.encode()):
                st.session_state[SIGNED_IN] = True
                st.rerun()
            st.error("That password is not the console's.")
        return False


def _admit_oidc() -> bool:
    if st.user.get("is_logged_in"):  # absent until Streamlit has read [auth]: not signed in
        if st.sidebar.button("Sign out", key="sign_out"):
            st.logout()
        return True
    st.info("Sign in to use the callbridge console.")
    if st.button("Sign in", key="sign_in_oidc"):
        st.login(_provider(st.secrets["auth"]))
    return False


def _provider(auth: Any) -> str | None:
    """`None` for a provider configured in `[auth]` itself, else the first `[auth.<name>]`."""
    if "client_id" in auth:
        return None
    return next((str(name) for name, value in auth.items() if hasattr(value, "keys")), None)


def oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except FileNotFoundError:  # no secrets file at all
        return False
