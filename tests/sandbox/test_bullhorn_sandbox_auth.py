from __future__ import annotations

import pytest

from sandbox.bullhorn import BullhornSandboxConfig
from sandbox.readings import LoginHost, SessionTtl
from tests.bullhorn_sandbox_kit import T0, authorization_code, client_for, log_in, logged_in, make_app, tokens

pytestmark = pytest.mark.anyio
CONFIG = BullhornSandboxConfig()
INVALID_TOKEN_BODY = {"errorMessage": "Bad 'BhRestToken' or timed-out.",
                      "errorMessageKey": "errors.authentication.invalidRestToken", "errorCode": 401}


async def test_login_info_points_every_url_at_the_app_it_is_mounted_in() -> None:
    app, _, _ = make_app()
    async with client_for(app) as client:
        answer = await client.get("rest-services/loginInfo", params={"username": CONFIG.username})
    assert answer.status_code == 200
    body = answer.json()
    assert body["oauthUrl"] == "http://bullhorn.test/oauth"
    assert body["restUrl"] == "http://bullhorn.test/rest-services"
    assert body["atsUrl"] == "http://bullhorn.test/ats"
    assert {"novoUrl", "dataCenterId", "superClusterId"} <= set(body)


async def test_login_info_refuses_an_unknown_username() -> None:
    app, _, _ = make_app()
    async with client_for(app) as client:
        answer = await client.get("rest-services/loginInfo", params={"username": "someone.else"})
    assert answer.status_code == 400
    assert "errorMessage" in answer.json()


async def test_the_full_oauth_flow_yields_a_session_whose_rest_url_has_the_corp_token_and_a_trailing_slash() -> None:
    app, sandbox, _ = make_app()
    async with client_for(app) as client:
        rest_url, token = await log_in(client)
        ping = await client.get(f"{rest_url}ping", headers={"BhRestToken": token})
    assert rest_url == f"http://bullhorn.test/rest-services/{CONFIG.corp_token}/"
    assert ping.status_code == 200
    assert ping.json() == {"sessionExpires": int((T0 + CONFIG.session_lifetime_s) * 1000)}
    assert sandbox.auth.logins == 1


async def test_authorize_accepts_a_form_encoded_body_and_url_encodes_the_code_in_location() -> None:
    app, _, _ = make_app()
    async with client_for(app) as client:
        answer = await client.post("oauth/authorize", data={
            "client_id": CONFIG.client_id, "response_type": "code", "action": "Login",
            "username": CONFIG.username, "password": CONFIG.password})
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(CONFIG.redirect_uri + "?code=")
    assert "%3A" in location and f"client_id={CONFIG.client_id}" in location


async def test_a_wrong_password_answers_the_login_page_without_a_code() -> None:
    app, _, _ = make_app()
    async with client_for(app) as client:
        answer = await client.post("oauth/authorize", params={
            "client_id": CONFIG.client_id, "response_type": "code", "action": "Login",
            "username": CONFIG.username, "password": "wrong"})
    assert answer.status_code == 200
    assert "location" not in answer.headers
    assert "text/html" in answer.headers["content-type"]


async def test_an_authorization_code_works_once() -> None:
    app, _, _ = make_app()
    async with client_for(app) as client:
        code = await authorization_code(client)
        params = {"grant_type": "authorization_code", "code": code, "client_id": CONFIG.client_id,
                  "client_secret": CONFIG.client_secret}
        first = await client.post("oauth/token", params=params)
        second = await client.post("oauth/token", params=params)
    assert first.status_code == 200
    assert set(first.json()) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert first.json()["expires_in"] == 600
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"


async def test_an_authorization_code_expires() -> None:
    app, _, clock = make_app()
    async with client_for(app) as client:
        code = await authorization_code(client)
        clock.advance(3600)
        answer = await client.post("oauth/token", data={
            "grant_type": "authorization_code", "code": code, "client_id": CONFIG.client_id,
            "client_secret": CONFIG.client_secret})
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


async def test_an_access_token_logs_in_once_only() -> None:
    app, _, _ = make_app()
    async with client_for(app) as client:
        access = (await tokens(client))["access_token"]
        first = await client.get("rest-services/login", params={"version": "*", "access_token": access})
        second = await client.get("rest-services/login", params={"version": "*", "access_token": access})
    assert first.status_code == 200
    assert second.status_code == 400
    assert second.json()["errorMessage"] == "Invalid or expired OAuth access token."


async def test_a_refresh_token_gives_a_new_pair_once_and_is_then_dead() -> None:
    app, _, _ = make_app()
    async with client_for(app) as client:
        first = await tokens(client)
        params = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"],
                  "client_id": CONFIG.client_id, "client_secret": CONFIG.client_secret}
        renewed = await client.post("oauth/token", params=params)
        replay = await client.post("oauth/token", params=params)
        login = await client.post("rest-services/login",
                                  params={"version": "*", "access_token": renewed.json()["access_token"]})
    assert renewed.status_code == 200
    assert renewed.json()["refresh_token"] != first["refresh_token"]
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert login.status_code == 200


async def test_a_wrong_client_secret_is_refused() -> None:
    app, _, _ = make_app()
    async with client_for(app) as client:
        code = await authorization_code(client)
        answer = await client.post("oauth/token", params={
            "grant_type": "authorization_code", "code": code, "client_id": CONFIG.client_id,
            "client_secret": "nope"})
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


async def test_rest_calls_without_a_token_answer_412() -> None:
    async with logged_in() as (rest, _, _):
        answer = await rest.get("settings/commentActionList", headers={"BhRestToken": ""})
    assert answer.status_code == 412


async def test_the_token_is_accepted_as_header_query_parameter_or_cookie() -> None:
    async with logged_in() as (rest, _, _):
        token = rest.headers["BhRestToken"]
        bare = {"BhRestToken": ""}
        as_query = await rest.get("ping", params={"BhRestToken": token}, headers=bare)
        as_other_header = await rest.get("ping", headers={"BHRestToken": token})
        rest.cookies.set("BhRestToken", token)
        as_cookie = await rest.get("ping", headers=bare)
    assert [a.status_code for a in (as_query, as_other_header, as_cookie)] == [200, 200, 200]


async def test_a_session_past_its_lifetime_answers_401_with_bullhorns_body() -> None:
    async with logged_in() as (rest, _, clock):
        assert (await rest.get("settings/commentActionList")).status_code == 200
        clock.advance(CONFIG.session_lifetime_s + 1)
        answer = await rest.get("settings/commentActionList")
    assert answer.status_code == 401
    assert answer.json() == INVALID_TOKEN_BODY


@pytest.mark.parametrize(("reading", "lifetime_s"), [("honoured", 2880 * 60), ("default", CONFIG.session_lifetime_s)])
async def test_login_ttl_sets_the_session_lifetime_in_minutes_capped_at_two_days_or_is_ignored(
        reading: SessionTtl, lifetime_s: float) -> None:
    app, _, _ = make_app(session_ttl=reading)
    async with client_for(app) as client:
        access = (await tokens(client))["access_token"]
        login = await client.get("rest-services/login", params={"version": "*", "access_token": access, "ttl": 9999})
        body = login.json()
        ping = await client.get(f"{body['restUrl']}ping", headers={"BhRestToken": body["BhRestToken"]})
    assert ping.json()["sessionExpires"] == int((T0 + lifetime_s) * 1000)


@pytest.mark.parametrize(("reading", "status"), [("rest_url", 200), ("login_info", 404)])
async def test_login_on_the_swimlane_host_is_answered_only_under_the_rest_url_reading(
        reading: LoginHost, status: int) -> None:
    app, _, _ = make_app(login_host=reading, rest_host="rest-west.bullhorn.test")
    async with client_for(app) as client:
        first = await client.post("rest-services/login",
                                  params={"version": "*", "access_token": (await tokens(client))["access_token"]})
        assert first.json()["restUrl"] == f"http://rest-west.bullhorn.test/rest-services/{CONFIG.corp_token}/"
        again = await client.post("http://rest-west.bullhorn.test/rest-services/login",
                                  params={"version": "*", "access_token": (await tokens(client))["access_token"]})
    assert again.status_code == status


async def test_a_token_used_with_another_corp_token_is_refused() -> None:
    async with logged_in() as (rest, _, _):
        answer = await rest.get("http://bullhorn.test/rest-services/othercorp/ping")
    assert answer.status_code == 401


async def test_logout_ends_the_session() -> None:
    async with logged_in() as (rest, _, _):
        assert (await rest.get("logout")).status_code == 200
        answer = await rest.get("ping")
    assert answer.status_code == 401
