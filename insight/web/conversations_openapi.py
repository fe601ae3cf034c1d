"""The conversations and create-record part of the OpenAPI document (`insight.web.openapi` merges it in)."""

from __future__ import annotations

from typing import Any

from insight.web.openapi_schemas import Schema, nullable, obj, ref


def _error(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


def _json(description: str, schema: Schema) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _path(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "integer", "minimum": 0}}


def _query(name: str, description: str, schema: Schema) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


def _api(summary: str, ok: dict[str, Any], *errors: str, status: str = "200", **extra: Any) -> dict[str, Any]:
    names = {"400": "BadRequest", "404": "NotFound", "409": "Conflict", "422": "InvalidPayload",
             "503": "Unavailable", "413": "PayloadTooLarge"}
    responses: dict[str, Any] = {status: ok, "401": _error("Unauthorized")}
    responses.update({code: _error(names[code]) for code in errors})
    return {"tags": ["conversations"], "summary": summary, "security": [{"apiKey": []}], "responses": responses,
            **extra}


_MESSAGE = obj({
    "direction": {"type": "string", "enum": ["inbound", "outbound"]},
    "sent_at": {"type": "string", "format": "date-time"},
    "sender": nullable("string"),
    "text": nullable("string"),
    "media": {"type": "array", "items": {"type": "string"}},
})
_CONVERSATION_PROPERTIES: dict[str, Schema] = {
    "id": {"type": "integer"},
    "line_id": {"type": "string", "description": "the Aircall line (number id)"},
    "number": {"type": "string", "description": "the customer's number, E.164 when readable"},
    "day": {"type": "string", "description": "YYYY-MM-DD, the UTC day of the note"},
    "status": {"type": "string"},
    "match": {"oneOf": [{"type": "null"}, {"type": "object"}]},
    "note_id": nullable("integer"),
    "messages": {"type": "array", "items": ref("ConversationMessage")},
    "created_at": nullable("string"),
    "updated_at": nullable("string"),
}

CONVERSATION_SCHEMAS: dict[str, Schema] = {
    "ConversationMessage": _MESSAGE,
    "Conversation": obj(_CONVERSATION_PROPERTIES, required=["id", "line_id", "number", "day", "status", "match",
                                                            "note_id", "messages"]),
    "ConversationPage": obj({"conversations": {"type": "array", "items": ref("Conversation")},
                             "next_cursor": nullable("string")}, required=["conversations", "next_cursor"]),
    "ConversationDetail": obj({**_CONVERSATION_PROPERTIES, "line_name": nullable("string"),
                               "line_digits": nullable("string"), "phone_e164": nullable("string"),
                               "explanation": nullable("string"), "action": nullable("string"),
                               "attempt_count": {"type": "integer"},
                               "note": {"oneOf": [{"type": "null"}, {"type": "object"}]}}),
    "ConversationRequeued": obj({"id": {"type": "integer"}, "status": {"type": "string"},
                                 "requeued": {"type": "boolean"}, "detail": {"type": "string"}}),
    "CreateRecordRequest": obj({
        "entity": {"type": "string", "enum": ["Candidate", "ClientContact"]},
        "first_name": {"type": "string", "minLength": 1, "maxLength": 50},
        "last_name": {"type": "string", "minLength": 1, "maxLength": 50},
        "client_corporation_id": {"type": "integer", "minimum": 1, "description": "required for a ClientContact"},
    }, required=["entity", "first_name", "last_name"]),
    "CreatedRecord": obj({"call_id": {"type": "integer"}, "entity": {"type": "string"}, "id": {"type": "integer"},
                          "name": {"type": "string"}, "status": {"type": "string"},
                          "conversations": {"type": "integer", "description": "unmatched SMS conversations with "
                                            "the number, queued with the new record"},
                          "detail": {"type": "string"}}),
    "Companies": obj({"companies": {"type": "array", "items": obj({"id": {"type": "integer"},
                                                                   "name": nullable("string")})}}),
}

CONVERSATION_PATHS: dict[str, Any] = {
    "/api/conversations": {
        "get": _api("SMS conversations (one per person, line and UTC day), newest first, with their sync state",
                    _json("one page", ref("ConversationPage")), "400", operationId="listConversations",
                    parameters=[_query("status", "sync states, comma-separated", {"type": "string"}),
                                _query("limit", "page size, 1 to 200 (default 50)", {"type": "integer"}),
                                _query("cursor", "next_cursor of the previous page", {"type": "string"})]),
    },
    "/api/conversations/{conversation_id}": {
        "get": _api("One conversation with its messages and its note as written",
                    _json("the conversation", ref("ConversationDetail")), "404", operationId="getConversation",
                    parameters=[_path("conversation_id", "the conversation id")]),
    },
    "/api/conversations/{conversation_id}/retry": {
        "post": _api("Look the number up again and rewrite the conversation's note",
                     _json("queued", ref("ConversationRequeued")), "404", "409", status="202",
                     operationId="retryConversation", parameters=[_path("conversation_id", "the conversation id")]),
    },
    "/api/calls/{call_id}/create-record": {
        "post": _api("Create a Bullhorn Candidate or ClientContact for an unmatched call's number, then write the "
                     "call's note on it", _json("created; the call is queued", ref("CreatedRecord")),
                     "400", "404", "409", "413", "422", "503", status="201", operationId="createRecord",
                     parameters=[_path("call_id", "the Aircall call id")],
                     requestBody={"required": True, "content": {"application/json": {
                         "schema": ref("CreateRecordRequest")}}}),
    },
    "/api/companies": {
        "get": _api("ClientCorporations whose name has words starting with `q` (for a new contact's company)",
                    _json("up to 20 companies", ref("Companies")), "400", "503", operationId="searchCompanies",
                    parameters=[{**_query("q", "the first letters of the company's name", {"type": "string"}),
                                 "required": True}]),
    },
}
