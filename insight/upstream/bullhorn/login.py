"""The HTTP steps of a Bullhorn login (reference/bullhorn.md §1), each a method, errors already explained.

loginInfo → authorize (302, code in Location) → token (code or refresh grant) → REST login → ping.
`BullhornAuth` decides which steps to run and stores what they answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn

import httpx

from insight.upstream.errors import AuthenticationFailed, UpstreamRejected, UpstreamUnavailable, explain
from shared.settings import Secret, Settings, is_loopback_host

DEFAULT_AUTH_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
#: asked on every REST login: Bullhorn's cap (sdk-rest MAX_TTL), since whether it honours `ttl` or
#: applies its default is unknown (DESIGN §10); the session's real end is read from `ping`
SESSION_TTL_MINUTES = 2880
# A wrong data centre answers 307 (sdk-rest follows 308 too); more than a couple is a loop.
_MAX_DATA_CENTRE_REDIRECTS = 3
_CHECK_USER = "check BULLHORN_USERNAME and BULLHORN_REST_URL"
_CHECK_PASSWORD = ("check BULLHORN_USERNAME and BULLHORN_PASSWORD; the API user must also have accepted "
                   "Bullhorn's terms of service once in a browser")
_CHECK_CLIENT = "check BULLHORN_CLIENT_ID and BULLHORN_CLIENT_SECRET"
#: the only hosts the password, the client secret and the tokens are ever sent to (DESIGN §14)
BULLHORN_DOMAINS = ("bullhornstaffing.com", "bullhorn.com")


@dataclass(frozen=True)
class BullhornCredentials:
    """What Bullhorn Support issued for the API user, and where discovery starts."""

    rest_url: str
    client_id: str
    client_secret: Secret
    username: str
    password: Secret

    @classmethod
    def from_settings(cls, settings: Settings) -> BullhornCredentials:
        return cls(settings.bullhorn_rest_url, settings.bullhorn_client_id, settings.bullhorn_client_secret,
                   settings.bullhorn_username, settings.bullhorn_password)


@dataclass(frozen=True)
class Discovery:
    oauth_url: str
    #: the REST root without corp token, where `/login` lives
    rest_url: str
    ats_url: str | None


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str | None


class LoginFlow:
    """One method per login step, over the auth endpoints' own client (which must not follow redirects)."""

    def __init__(self, credentials: BullhornCredentials, http: httpx.AsyncClient, *,
                 timeout: httpx.Timeout = DEFAULT_AUTH_TIMEOUT) -> None:
        self._credentials = credentials
        self._http = http
        self._timeout = timeout

    async def discover(self) -> Discovery:
        response = await self._send("GET", f"{self._credentials.rest_url}/loginInfo",
                                    {"username": self._credentials.username})
        body = _json(response)
        if response.status_code != 200 or not isinstance(body.get("oauthUrl"), str):
            self._raise_unavailable(response, "login discovery")
            raise AuthenticationFailed(
                f"Bullhorn does not know the API user {self._credentials.username!r} ({_CHECK_USER})",
                status_code=response.status_code, error_key=body.get("errorMessageKey"), body=body or response.text)
        return Discovery(body["oauthUrl"].rstrip("/"), str(body.get("restUrl", self._credentials.rest_url)).rstrip("/"),
                         body.get("atsUrl"))

    async def authorization_code(self, oauth_url: str) -> str:
        credentials = self._credentials
        response = await self._send("POST", f"{oauth_url}/authorize", {
            "client_id": credentials.client_id, "response_type": "code", "action": "Login",
            "username": credentials.username, "password": credentials.password.get()})
        self._raise_unavailable(response, "login")
        location = response.headers.get("Location")
        if response.status_code in (301, 302, 303) and location:
            params = httpx.URL(location).params
            if params.get("code"):
                return params["code"]
            self._oauth_refusal(response, dict(params))
        if response.status_code == 200:
            # A refused password re-renders the login form with 200 and no Location.
            raise AuthenticationFailed(f"Bullhorn refused the login: the username or password was not accepted "
                                       f"({_CHECK_PASSWORD})", status_code=200, body=response.text[:500])
        self._oauth_refusal(response, _json(response))

    async def exchange_code(self, oauth_url: str, code: str) -> Tokens:
        return await self._token(oauth_url, {"grant_type": "authorization_code", "code": code})

    async def refresh(self, oauth_url: str, refresh_token: str) -> Tokens:
        return await self._token(oauth_url, {"grant_type": "refresh_token", "refresh_token": refresh_token})

    async def rest_login(self, login_root: str, access_token: str) -> tuple[str, str]:
        """`(BhRestToken, restUrl)`; the restUrl carries the corp token and ends with a slash."""
        response = await self._send("POST", f"{login_root}/login", {"version": "*", "access_token": access_token,
                                                                    "ttl": str(SESSION_TTL_MINUTES)})
        body = _json(response)
        if response.status_code == 200 and isinstance(body.get("BhRestToken"), str) and body.get("restUrl"):
            rest_url = str(body["restUrl"])
            require_bullhorn_url(httpx.URL(rest_url), "the REST login's restUrl")
            return body["BhRestToken"], rest_url if rest_url.endswith("/") else rest_url + "/"
        self._raise_unavailable(response, "REST login")
        raise UpstreamRejected(explain(response.status_code, body or response.text, operation="REST login"),
                               status_code=response.status_code, error_key=body.get("errorMessageKey"),
                               body=body or response.text)

    async def session_expires(self, rest_url: str, rest_token: str) -> float | None:
        """Epoch seconds from `ping`'s sessionExpires; None if Bullhorn does not say (expiry is then found by 401)."""
        try:
            response = await self._send("GET", f"{rest_url}ping", {}, headers={"BhRestToken": rest_token})
        except UpstreamUnavailable:
            return None
        expires_ms = _json(response).get("sessionExpires")
        if response.status_code != 200 or not isinstance(expires_ms, int | float):
            return None
        return float(expires_ms) / 1000.0

    async def _token(self, oauth_url: str, grant: dict[str, str]) -> Tokens:
        params = {**grant, "client_id": self._credentials.client_id,
                  "client_secret": self._credentials.client_secret.get()}
        response = await self._send("POST", f"{oauth_url}/token", params)
        body = _json(response)
        if response.status_code == 200 and isinstance(body.get("access_token"), str):
            refresh_token = body.get("refresh_token")
            return Tokens(body["access_token"], refresh_token if isinstance(refresh_token, str) else None)
        self._raise_unavailable(response, "token request")
        self._oauth_refusal(response, body)

    def _oauth_refusal(self, response: httpx.Response, body: dict[str, Any]) -> NoReturn:
        error = str(body.get("error") or "")
        description = str(body.get("error_description") or body.get("errorMessage") or "")
        detail = f" ({description})" if description else ""
        if error == "invalid_client":
            message = f"Bullhorn refused the client id or secret{detail} ({_CHECK_CLIENT})"
        elif error == "invalid_grant":
            message = f"Bullhorn refused the grant{detail}"
        else:
            refusal = error or f"HTTP {response.status_code}"
            message = f"Bullhorn refused the login with {refusal}{detail} ({_CHECK_CLIENT})"
        raise AuthenticationFailed(message, status_code=response.status_code, error_key=error or None,
                                   body=body or response.text[:500])

    def _raise_unavailable(self, response: httpx.Response, operation: str) -> None:
        if response.status_code == 429 or response.status_code >= 500:
            raise UpstreamUnavailable(explain(response.status_code, _json(response) or response.text[:200],
                                              operation=operation), status_code=response.status_code)

    async def _send(self, method: str, url: str, params: dict[str, str], *,
                    headers: dict[str, str] | None = None) -> httpx.Response:
        target = httpx.URL(url, params=params)
        for _ in range(_MAX_DATA_CENTRE_REDIRECTS + 1):
            require_bullhorn_url(target, "a login step")
            try:
                response = await self._http.request(method, target, headers=headers, timeout=self._timeout,
                                                    follow_redirects=False)
            except httpx.HTTPError as exc:
                raise UpstreamUnavailable(explain(None, type(exc).__name__, operation="login")) from exc
            location = response.headers.get("Location")
            if response.status_code not in (307, 308) or not location:
                return response
            # The right data centre keeps method and parameters; re-add them if Location dropped them.
            target = target.join(location)
            if not target.query:
                target = target.copy_merge_params(params)
        raise UpstreamUnavailable(f"Bullhorn redirected the login more than {_MAX_DATA_CENTRE_REDIRECTS} times "
                                  f"(last to {target.host}); check BULLHORN_REST_URL", status_code=response.status_code)


def require_bullhorn_url(url: httpx.URL, what: str) -> None:
    """Credentials go only to https on a Bullhorn host, or to a loopback host (the sandbox, test fakes)."""
    host = url.host.rstrip(".").lower()
    on_bullhorn = any(host == domain or host.endswith("." + domain) for domain in BULLHORN_DOMAINS)
    if is_loopback_host(host) or (url.scheme == "https" and on_bullhorn):
        return
    raise AuthenticationFailed(
        f"Bullhorn login refused to go to {url.scheme}://{host} ({what}): only https on *.bullhornstaffing.com or "
        "*.bullhorn.com (or a loopback host) may receive the credentials; check BULLHORN_REST_URL",
        status_code=None,
    )


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
