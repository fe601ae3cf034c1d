"""The console's only way to the service: a small `requests` client of web's HTTP API.

Every failure becomes a `ServiceError` whose message is a sentence the console can show as a
banner (never a traceback).
"""

from __future__ import annotations

from typing import Any

import requests

DEFAULT_TIMEOUT_S = 5.0
#: the setup doctor asks Bullhorn and Aircall several things (and Aircall may make it wait its quota)
SETUP_TIMEOUT_S = 60.0


class ServiceError(Exception):
    """The service could not answer; `str()` is a sentence for the operator."""


class ServiceUnreachable(ServiceError):
    pass


class ServiceUnauthorized(ServiceError):
    pass


class ServiceFailed(ServiceError):
    def __init__(self, message: str, status_code: int, detail: str | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        #: the service's own sentence (its JSON `detail`), without our framing
        self.detail = detail or message


class CallNotFound(ServiceFailed):
    pass


class RetryRefused(ServiceFailed):
    """409 on a retry: already synced and unchanged, or a worker holds the call right now."""


class ServiceClient:
    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        session: requests.Session | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._session = session or requests.Session()
        self._timeout_s = timeout_s
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}

    def health(self) -> dict[str, Any]:
        return self._request("GET", "/healthz", expect=(200,))

    def readiness(self) -> dict[str, Any]:
        """The readiness report with its checks (`/api/health`: the public `/readyz` says one word only)."""
        return self._request("GET", "/api/health", expect=(200,))

    def calls(
        self,
        *,
        status: str | None = None,
        direction: str | None = None,
        agent: str | None = None,
        call_type: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """`{"calls": [...], "next_cursor": str | None}`, newest first; None filters are left out."""
        params = {
            "status": status,
            "direction": direction,
            "agent": agent,
            "type": call_type,
            "since": since,
            "until": until,
            "limit": str(limit) if limit is not None else None,
            "cursor": cursor,
        }
        query = {name: value for name, value in params.items() if value}
        return self._request("GET", "/api/calls", expect=(200,), params=query)

    def call(self, call_id: int) -> dict[str, Any]:
        """The full call: events, attempts, match, note link, card link, flags, tags."""
        return self._request("GET", f"/api/calls/{int(call_id)}", expect=(200,))

    def retry(self, call_id: int) -> dict[str, Any]:
        """Re-match and re-queue a call; `RetryRefused` says why when there is nothing to do."""
        return self._request("POST", f"/api/calls/{int(call_id)}/retry", expect=(200, 202))

    def conversations(self, *, status: str | None = None, limit: int | None = None,
                      cursor: str | None = None) -> dict[str, Any]:
        """`{"conversations": [...], "next_cursor": str | None}`: SMS conversations, newest first."""
        params = {"status": status, "limit": str(limit) if limit is not None else None, "cursor": cursor}
        return self._request("GET", "/api/conversations", expect=(200,),
                             params={name: value for name, value in params.items() if value})

    def conversation(self, conversation_id: int) -> dict[str, Any]:
        """One conversation: its messages and its note as written."""
        return self._request("GET", f"/api/conversations/{int(conversation_id)}", expect=(200,))

    def create_record(self, call_id: int, record: dict[str, Any]) -> dict[str, Any]:
        """Create a Candidate or ClientContact for an unmatched call's number; `ServiceFailed.detail` says why not."""
        return self._request("POST", f"/api/calls/{int(call_id)}/create-record", expect=(201,), json=record)

    def companies(self, text: str) -> list[dict[str, Any]]:
        """ClientCorporations whose name has words starting with `text`."""
        found = self._request("GET", "/api/companies", expect=(200,), params={"q": text})
        return list(found.get("companies") or [])

    def tags(self) -> dict[str, Any]:
        return self._request("GET", "/api/tags", expect=(200,))

    def summary(self, *, hours: int | None = None) -> dict[str, Any]:
        params = {"hours": str(hours)} if hours is not None else {}
        return self._request("GET", "/api/summary", expect=(200,), params=params)

    def setup(self) -> dict[str, Any]:
        """The setup doctor's checks: `{"checks": [{"id", "title", "status", "detail", "fix", ...}]}`."""
        return self._request("GET", "/api/setup", expect=(200,), timeout_s=SETUP_TIMEOUT_S)

    def setup_fix(self, fix: str) -> dict[str, Any]:
        """Apply one fix; the answer is its check's new state and whether anything `changed`."""
        return self._request("POST", "/api/setup/fix", expect=(200,), json={"fix": fix}, timeout_s=SETUP_TIMEOUT_S)

    def _request(self, method: str, path: str, *, expect: tuple[int, ...], timeout_s: float | None = None,
                 **kwargs: Any) -> dict[str, Any]:
        url = self._base_url + path
        timeout_s = timeout_s or self._timeout_s
        try:
            response = self._session.request(method, url, headers=self._headers, timeout=timeout_s, **kwargs)
        except requests.Timeout:
            raise ServiceUnreachable(
                f"The callbridge service at {self._base_url} did not answer within {timeout_s:g} s."
            ) from None
        except requests.ConnectionError:
            raise ServiceUnreachable(
                f"Cannot reach the callbridge service at {self._base_url}: is the web process running?"
            ) from None
        if response.status_code == 401:
            raise ServiceUnauthorized(
                "The service refused the console's API key: set CALLBRIDGE_API_KEY to the key the service uses."
            )
        if response.status_code not in expect:
            detail = _detail(response)
            if response.status_code == 404 and path.startswith("/api/calls/"):
                raise CallNotFound(f"The service knows no such call: {detail}", 404, detail)
            if response.status_code == 409 and path.endswith("/retry"):
                raise RetryRefused(f"Retry refused: {detail}", 409, detail)
            raise ServiceFailed(
                f"The service answered {response.status_code} to {method} {path}: {detail}",
                response.status_code,
                detail,
            )
        try:
            body = response.json()
        except ValueError:
            raise ServiceFailed(f"The service answered {method} {path} with something that is not JSON.", 502) from None
        if not isinstance(body, dict):
            raise ServiceFailed(f"The service answered {method} {path} with an unexpected shape.", 502)
        return body


def _detail(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return str(body["detail"])
    return response.reason
