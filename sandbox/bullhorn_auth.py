"""loginInfo, the OAuth code flow, REST login and the BhRestToken sessions (reference/bullhorn.md §1)."""

from __future__ import annotations

import html
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from sandbox.bullhorn_errors import BullhornError, invalid_rest_token

if TYPE_CHECKING:
    from sandbox.bullhorn import BullhornSandbox

#: undocumented; real codes are short-lived, so a slow client must notice
CODE_LIFETIME_S = 120.0
ACCESS_TOKEN_LIFETIME_S = 600
#: Bullhorn caps `ttl` at two days whatever is asked (sdk-rest MAX_TTL)
MAX_TTL_MINUTES = 2880


@dataclass
class Grant:
    expires_at: float
    redirect_uri: str | None


@dataclass
class Session:
    token: str
    corp_token: str
    expires_at: float


@dataclass
class AuthState:
    codes: dict[str, Grant] = field(default_factory=dict)
    access_tokens: dict[str, float] = field(default_factory=dict)
    refresh_tokens: set[str] = field(default_factory=set)
    sessions: dict[str, Session] = field(default_factory=dict)
    logins: int = 0


def base_url(request: Request) -> str:
    return str(request.base_url)


async def merged_params(request: Request) -> dict[str, str]:
    """Query parameters, overlaid with a form-encoded body (oauth-example-python posts a form)."""
    params = dict(request.query_params)
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        params.update(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
    return params


def _token(sandbox: BullhornSandbox) -> str:
    return f"{sandbox.config.data_center_id}:{secrets.token_urlsafe(24)}"


def _oauth_error(error: str, description: str, status_code: int = 400) -> Response:
    return JSONResponse({"error": error, "error_description": description}, status_code=status_code)


async def login_info(request: Request, sandbox: BullhornSandbox) -> Response:
    username = request.query_params.get("username", "")
    if username.lower() != sandbox.config.username.lower():
        # The real body for an unknown user is undocumented; a 400 makes discovery failures visible.
        raise BullhornError(400, f"Unable to find user {username!r}.", "errors.loginInfo.userNotFound")
    base = base_url(request)
    return JSONResponse({
        "atsUrl": base + "ats", "oauthUrl": base + "oauth", "restUrl": base + "rest-services",
        "novoUrl": base + "ats", "samlUrl": base + "saml", "coreUrl": base + "core",
        "dataCenterId": sandbox.config.data_center_id, "superClusterId": sandbox.config.super_cluster_id,
    })


def _login_page(message: str) -> Response:
    # A wrong password on the real authorize endpoint re-renders its login form with 200 and no
    # Location, so a client that only checks the status code mistakes it for success.
    return HTMLResponse(
        "<!doctype html><html><head><title>Bullhorn Login</title></head><body>"
        f"<p class=\"error\">{html.escape(message)}</p><form method=\"post\">"
        "<input name=\"username\"><input name=\"password\" type=\"password\"></form></body></html>"
    )


async def authorize(request: Request, sandbox: BullhornSandbox) -> Response:
    params = await merged_params(request)
    config = sandbox.config
    if params.get("client_id") != config.client_id:
        return _oauth_error("invalid_client", "Invalid client id.")
    if params.get("response_type") != "code":
        return _oauth_error("unsupported_response_type", "response_type must be 'code'.")
    redirect_uri = params.get("redirect_uri")
    if redirect_uri is not None and redirect_uri != config.redirect_uri:
        return _oauth_error("invalid_request", "Invalid redirect_uri.")
    if params.get("action") != "Login" or params.get("username", "").lower() != config.username.lower():
        return _login_page("Invalid credentials. Please try again.")
    if params.get("password") != config.password:
        return _login_page("Invalid credentials. Please try again.")
    code = _token(sandbox)
    sandbox.auth.codes[code] = Grant(config.clock() + CODE_LIFETIME_S, redirect_uri)
    target = config.redirect_uri
    separator = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{separator}{urlencode({'code': code, 'client_id': config.client_id})}",
                            status_code=302)


def _issue_tokens(sandbox: BullhornSandbox) -> dict[str, Any]:
    access, refresh = _token(sandbox), _token(sandbox)
    sandbox.auth.access_tokens[access] = sandbox.config.clock() + ACCESS_TOKEN_LIFETIME_S
    sandbox.auth.refresh_tokens.add(refresh)
    return {"access_token": access, "token_type": "Bearer", "expires_in": ACCESS_TOKEN_LIFETIME_S,
            "refresh_token": refresh}


async def token(request: Request, sandbox: BullhornSandbox) -> Response:
    params = await merged_params(request)
    config, auth = sandbox.config, sandbox.auth
    if params.get("client_id") != config.client_id or params.get("client_secret") != config.client_secret:
        return _oauth_error("invalid_client", "Invalid client credentials.", 401)
    grant_type = params.get("grant_type")
    if grant_type == "authorization_code":
        grant = auth.codes.pop(params.get("code", ""), None)
        if grant is None or grant.expires_at <= config.clock():
            return _oauth_error("invalid_grant", "Invalid, expired, or revoked authorization code.")
        if grant.redirect_uri is not None and params.get("redirect_uri") != grant.redirect_uri:
            return _oauth_error("invalid_grant", "redirect_uri does not match the authorization request.")
        return JSONResponse(_issue_tokens(sandbox))
    if grant_type == "refresh_token":
        refresh = params.get("refresh_token", "")
        if refresh not in auth.refresh_tokens:
            return _oauth_error("invalid_grant", "Invalid, expired, or revoked refresh token.")
        auth.refresh_tokens.discard(refresh)
        return JSONResponse(_issue_tokens(sandbox))
    return _oauth_error("unsupported_grant_type", f"Unsupported grant_type {grant_type!r}.")


async def login(request: Request, sandbox: BullhornSandbox) -> Response:
    params = await merged_params(request)
    config, auth = sandbox.config, sandbox.auth
    swimlane = config.rest_host
    if config.login_host == "login_info" and swimlane is not None and request.url.hostname == swimlane:
        # DESIGN §10 reading 2: /login lives only where loginInfo said, not on the session's REST host
        raise BullhornError(404, "Not found.", "errors.notFound")
    # Spent on first use even when the login then fails (jiminny/oauth2-bullhorn).
    expires_at = auth.access_tokens.pop(params.get("access_token", ""), None)
    if expires_at is None or expires_at <= config.clock():
        raise BullhornError(400, "Invalid or expired OAuth access token.")
    lifetime_s = config.session_lifetime_s
    # DESIGN §10: whether `ttl` is honoured or the default lifetime applies is unknown
    if "ttl" in params and config.session_ttl == "honoured":
        try:
            lifetime_s = min(int(params["ttl"]), MAX_TTL_MINUTES) * 60.0
        except ValueError as exc:
            raise BullhornError(400, "ttl must be a whole number of minutes.") from exc
    session = Session(secrets.token_hex(16), config.corp_token, config.clock() + lifetime_s)
    auth.sessions[session.token] = session
    auth.logins += 1
    base = request.base_url.replace(hostname=swimlane) if swimlane else request.base_url
    return JSONResponse({"BhRestToken": session.token, "restUrl": f"{base}rest-services/{config.corp_token}/"})


def rest_token(request: Request) -> str | None:
    for name in ("BhRestToken", "BHRestToken"):
        value = request.headers.get(name) or request.query_params.get(name) or request.cookies.get(name)
        if value:
            return value
    return None


def authenticate(request: Request, sandbox: BullhornSandbox) -> Session:
    token = rest_token(request)
    if token is None:
        raise BullhornError(412, "BhRestToken is required.", "errors.authentication.missingRestToken")
    session = sandbox.auth.sessions.get(token)
    # Sessions are not extended by use: whether Bullhorn's are is undocumented, and fixed expiry is harsher.
    if session is None or session.expires_at <= sandbox.config.clock():
        sandbox.auth.sessions.pop(token, None)
        raise invalid_rest_token()
    if request.path_params.get("corp_token") != session.corp_token:
        raise invalid_rest_token()
    return session


async def ping(request: Request, sandbox: BullhornSandbox) -> Response:
    session = authenticate(request, sandbox)
    return JSONResponse({"sessionExpires": int(session.expires_at * 1000)})


async def logout(request: Request, sandbox: BullhornSandbox) -> Response:
    session = authenticate(request, sandbox)
    sandbox.auth.sessions.pop(session.token, None)
    return JSONResponse({"message": "Logged out."})


def auth_routes(sandbox: BullhornSandbox) -> list[BaseRoute]:
    from sandbox.bullhorn import bind

    return [
        Route("/rest-services/loginInfo", bind(sandbox, login_info, session=False), methods=["GET"]),
        Route("/rest-services/login", bind(sandbox, login, session=False), methods=["GET", "POST"]),
        Route("/oauth/authorize", bind(sandbox, authorize, session=False), methods=["GET", "POST"]),
        Route("/oauth/token", bind(sandbox, token, session=False), methods=["POST"]),
    ]


def session_routes(sandbox: BullhornSandbox) -> list[BaseRoute]:
    from sandbox.bullhorn import bind

    return [
        Route("/ping", bind(sandbox, ping, session=False), methods=["GET"]),
        Route("/logout", bind(sandbox, logout, session=False), methods=["GET", "POST"]),
    ]
