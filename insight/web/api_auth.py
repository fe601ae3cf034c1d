"""Bearer `CALLBRIDGE_API_KEY` for every `/api/*` route; unset means the ops API refuses all.

Once the key is accepted, the route's query is checked against what it declares (`query_contract`).
"""

from __future__ import annotations

import hmac

from starlette.requests import Request

from insight.web.api_errors import ApiError
from insight.web.query_contract import refuse_unknown_query
from shared.settings import Settings


def require_api_key(request: Request, settings: Settings) -> None:
    if settings.api_key is None:
        raise ApiError(401, "the ops API is disabled: set CALLBRIDGE_API_KEY on the service to enable it")
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not presented:
        raise ApiError(401, "send the API key as 'Authorization: Bearer <CALLBRIDGE_API_KEY>'")
    if not hmac.compare_digest(presented.strip().encode(), settings.api_key.get().encode()):
        raise ApiError(401, "the API key does not match CALLBRIDGE_API_KEY")
    refuse_unknown_query(request)
