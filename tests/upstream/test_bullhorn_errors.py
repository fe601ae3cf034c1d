from __future__ import annotations

import pytest

from insight.upstream.errors import (
    AuthenticationFailed,
    SessionExpiredDuringWrite,
    UpstreamError,
    UpstreamRejected,
    UpstreamUnavailable,
    error_key_of,
    explain,
    explain_aircall,
)


def test_the_error_tree_separates_retry_later_from_a_person_must_act() -> None:
    assert issubclass(SessionExpiredDuringWrite, UpstreamUnavailable)
    assert issubclass(AuthenticationFailed, UpstreamRejected)
    assert issubclass(UpstreamUnavailable, UpstreamError) and issubclass(UpstreamRejected, UpstreamError)
    assert not issubclass(UpstreamRejected, UpstreamUnavailable)


def test_errors_carry_their_status_and_details_and_show_them_in_repr() -> None:
    unavailable = UpstreamUnavailable("slow", status_code=429, retry_after_s=2.0)
    rejected = UpstreamRejected("no", status_code=400, error_key="INVALID_VALUE", body={"errors": []})
    assert (unavailable.status_code, unavailable.retry_after_s) == (429, 2.0)
    assert (rejected.error_key, rejected.body, rejected.explanation) == ("INVALID_VALUE", {"errors": []}, "no")
    assert repr(rejected) == "UpstreamRejected('no', status_code=400)"


def test_a_403_on_a_note_update_asks_an_admin_for_note_rights() -> None:
    body = {"errorMessage": "Access denied", "errorCode": 403}
    assert explain(403, body, operation="note update") == (
        "Bullhorn refused the note update: the API user lacks edit rights on notes "
        "(ask a Bullhorn admin to grant create and edit on Notes)"
    )


def test_a_403_elsewhere_names_the_entity_to_grant() -> None:
    text = explain(403, {"errorMessage": "Access denied", "entityName": "CorporateUser"}, operation="user lookup")
    assert "Access denied" in text and "access to CorporateUser" in text


def test_a_400_naming_the_action_field_says_which_field_and_why() -> None:
    body = {"errorMessage": "error persisting an entity of type: Note", "errorCode": 400,
            "errors": [{"propertyName": "action", "severity": "ERROR", "type": "TOO_LONG"}], "entityName": "Note"}
    text = explain(400, body, operation="note creation")
    assert text.startswith("Bullhorn refused the note creation: the field 'action' was rejected (too long")
    assert "30 characters" in text and "commentActionList" in text


def test_a_400_on_another_field_names_it() -> None:
    body = {"errors": [{"propertyName": "minutesSpent", "type": "INVALID_VALUE"}]}
    assert explain(400, body, operation="note creation") == (
        "Bullhorn refused the note creation: the field 'minutesSpent' was rejected (invalid value)")


def test_a_400_without_field_errors_quotes_bullhorn() -> None:
    assert explain(400, {"errorMessage": "Invalid field 'foo'"}, operation="candidate search") == (
        "Bullhorn refused the candidate search: the request was invalid (Invalid field 'foo')")


def test_a_401_points_at_the_session_and_the_credentials() -> None:
    expired = {"errorMessage": "Bad 'BhRestToken' or timed-out.",
               "errorMessageKey": "errors.authentication.invalidRestToken", "errorCode": 401}
    assert "session had expired" in explain(401, expired, operation="note update")
    assert "BULLHORN_PASSWORD" in explain(401, None, operation="note update")


def test_a_429_says_rate_limited_and_a_5xx_or_timeout_says_unavailable() -> None:
    assert explain(429, None, operation="note update") == (
        "Bullhorn rate limited the note update (too many requests); it will be retried after a pause")
    assert explain(503, "", operation="note update") == (
        "Bullhorn is unavailable for the note update: it is in maintenance; it will be retried automatically")
    assert "failed (HTTP 502)" in explain(502, None, operation="note update")
    assert explain(None, "ConnectError", operation="note update") == (
        "Bullhorn could not be reached for the note update (ConnectError); it will be retried automatically")
    assert explain(None, "ReadTimeout", operation="note creation") == (
        "Bullhorn did not answer the note creation in time (ReadTimeout); it may or may not have been applied "
        "and will be retried automatically")


def test_a_500_duplicate_value_is_explained_as_an_existing_link() -> None:
    body = {"errorMessage": "error persisting an entity of type: NoteEntity", "errorCode": 500,
            "errors": [{"propertyName": None, "severity": "ERROR", "type": "DUPLICATE_VALUE"}],
            "entityName": "NoteEntity"}
    assert error_key_of(body) == "DUPLICATE_VALUE"
    assert explain(500, body, operation="note link creation").startswith(
        "Bullhorn refused the note link creation: the link already exists (DUPLICATE_VALUE on NoteEntity)")


def test_a_long_body_is_shortened_in_the_explanation() -> None:
    text = explain(418, "x" * 1000, operation="ping")
    assert len(text) < 300 and text.endswith("…")


@pytest.mark.parametrize("status", [401, 403])
def test_aircall_auth_refusals_name_the_api_id_and_token(status: int) -> None:
    assert "AIRCALL_API_ID and AIRCALL_API_TOKEN" in explain_aircall(status, None, operation="insight card push")


def test_aircall_404_422_429_and_5xx_are_explained() -> None:
    assert "does not know this call" in explain_aircall(404, None, operation="call fetch")
    refused = explain_aircall(422, {"error": "Unprocessable", "troubleshoot": "contents is invalid"},
                              operation="insight card push")
    assert refused == ("Aircall refused the insight card push: the request was not accepted "
                       "(Unprocessable: contents is invalid)")
    assert "rate limited" in explain_aircall(429, None, operation="users list")
    assert "unavailable" in explain_aircall(500, None, operation="users list")
    assert "could not be reached" in explain_aircall(None, "ConnectError", operation="users list")
