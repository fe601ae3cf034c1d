"""JSON Schemas (OpenAPI 3.1 dialect) of the bodies in DESIGN §3, for `insight.web.openapi`.

Response objects are open (`additionalProperties` allowed) so that adding a field is not a
breaking change; the error body is closed, as clients branch on it.
"""

from __future__ import annotations

from typing import Any

from shared.states import SyncState

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(kind: str, **extra: Any) -> Schema:
    return {"type": [kind, "null"], **extra}


def obj(properties: dict[str, Schema], *, required: list[str] | None = None, **extra: Any) -> Schema:
    return {"type": "object", "properties": properties, "required": required or list(properties), **extra}


TIMESTAMP = nullable("string", format="date-time", description="ISO 8601 UTC, e.g. 2026-11-25T10:00:00Z")
SYNC_STATES = [state.value for state in SyncState]

SCHEMAS: dict[str, Schema] = {
    "Error": obj(
        {
            "error": {"type": "string", "description": "a stable code: unauthorized, not_found, invalid_phone, …"},
            "detail": {"type": "string", "description": "one sentence saying what went wrong and what to do"},
        },
        additionalProperties=False,
    ),
    "WebhookEnvelope": {
        "type": "object",
        "description": "Aircall's envelope; `data` is the resource (the Call for call.* events). Parsed leniently: "
        "only these invariants are required, unknown fields are kept, nulls are treated as absent.",
        "properties": {
            "resource": {"type": "string", "examples": ["call"]},
            "event": {"type": "string", "minLength": 1, "examples": ["call.created"]},
            "timestamp": {"type": "integer", "minimum": 0, "description": "seconds since the epoch"},
            "token": {"type": "string", "description": "one of AIRCALL_WEBHOOK_TOKEN"},
            "data": {
                "type": "object",
                "properties": {"id": {"type": "integer", "minimum": 1, "description": "the Aircall call id"}},
            },
        },
        "required": ["event", "timestamp", "token", "data"],
    },
    "WebhookAck": obj({"status": {"type": "string", "enum": ["accepted", "duplicate", "ignored"]}}),
    "CardMatch": obj(
        {
            "entity": {"type": "string", "enum": ["Candidate", "ClientContact"]},
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "owner": nullable("string"),
            "company": nullable("string"),
            "status": nullable("string"),
            "phone_field": {"type": "string", "examples": ["mobile"]},
            "link": {"type": "string", "format": "uri", "description": "Bullhorn's OpenWindow link to the record"},
        }
    ),
    "Card": obj(
        {
            "phone": nullable("string", pattern=r"^\+[1-9][0-9]{1,14}$", description="E.164; null: anonymous"),
            "call_id": {"type": "integer", "description": "only on a call's card"},
            "matches": {"type": "array", "items": ref("CardMatch"), "maxItems": 3},
            "more": {"type": "integer", "minimum": 0, "description": "matches beyond those listed"},
            "cached": {"type": "boolean"},
            "looked_up_at": {"type": "string", "format": "date-time"},
            "card_url": {"type": "string", "format": "uri", "description": "the signed HTML card (a call card)"},
            "context": ref("CardContext"),
        },
        required=["phone", "matches", "more", "cached", "looked_up_at"],
    ),
    # DESIGN §13; absent when CALLBRIDGE_CARD_CONTEXT=0
    "CardContext": obj(
        {
            "last_contact": {"oneOf": [{"type": "null"}, obj({
                "at": {"type": "string", "format": "date-time"},
                "by": nullable("string", description="the agent or Bullhorn user"),
                "kind": {"type": "string", "enum": ["call", "note", "sms"]},
                "action": nullable("string"),
                "direction": nullable("string"),
            })]},
            "on_call_now": {"type": "array", "description": "other agents on a live call with this number",
                            "items": obj({"agent": {"type": "string"},
                                          "since": {"type": "string", "format": "date-time"}})},
            "pipeline": {"oneOf": [
                {"type": "null"},
                obj({"items": {"type": "array", "maxItems": 3, "items": obj({
                    "job_id": {"type": "integer"}, "title": nullable("string"), "company": nullable("string"),
                    "status": nullable("string")})},
                     "count": {"type": "integer", "minimum": 0}}),
                obj({"open_jobs": {"type": "integer", "minimum": 0}}),
            ]},
            "complete": {"type": "boolean", "description": "false: Bullhorn's part follows in a refreshed card"},
            "unavailable": {"type": "array", "items": {"type": "string"}, "description": "what is missing and why"},
        }
    ),
    "CallMatch": nullable(
        "object",
        properties={"entity": {"type": "string"}, "id": {"type": "integer"}, "name": nullable("string")},
        required=["entity", "id", "name"],
    ),
    "Call": obj(
        {
            "call_id": {"type": "integer"},
            "direction": {"enum": ["inbound", "outbound", None]},
            "type": {"enum": ["outbound", "inbound", "voicemail", "missed", None]},
            "agent_email": nullable("string"),
            "number_name": nullable("string", description="the Aircall number's name"),
            "raw_digits": nullable("string", description="the other party as Aircall wrote it"),
            "started_at": TIMESTAMP,
            "ended_at": TIMESTAMP,
            "status": {"type": "string", "enum": SYNC_STATES},
            "explanation": nullable("string", description="the sync state in plain words"),
            "match": ref("CallMatch"),
            "note_id": nullable("integer"),
            "action": nullable("string", description="the Bullhorn note action"),
            "attempt_count": {"type": "integer", "minimum": 0},
            "next_attempt_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "source": {"enum": ["webhook", "backfill"],
                       "description": "how the call reached callbridge: its webhooks, or Aircall's call list"},
        }
    ),
    "CallDetail": {
        "allOf": [
            ref("Call"),
            obj(
                {
                    "phone_e164": nullable("string"),
                    "card_status": nullable("string"),
                    "note_link": nullable("string", format="uri"),
                    "card_url": {"type": "string", "format": "uri"},
                    "flags": {"type": "object"},
                    "tags": {"type": "array", "items": obj({"name": nullable("string"), "tagged_at": TIMESTAMP,
                                                            "by_agent": {"type": "boolean"}})},
                    "comments": {"type": "array", "items": obj({"content": nullable("string"),
                                                                "posted_at": TIMESTAMP, "author": nullable("string")})},
                    "events": {"type": "array", "items": ref("CallEvent")},
                    "attempts": {"type": "array", "items": ref("Attempt")},
                    "ai": nullable("object", description="the note's AI sections (summary, topics, sentiment, "
                                                         "action_items, transcript_lines); null: no AI insight"),
                    "late": {"type": "array", "description": "CALLBRIDGE_NOTE_MODE=once: what arrived after the "
                                                             "note was written (never written to it)",
                             "items": obj({"event": {"type": "string"}, "received_at": TIMESTAMP,
                                           "summary": {"type": "string"}})},
                }
            ),
        ]
    },
    "CallEvent": obj(
        {
            "id": {"type": "integer"},
            "event": {"type": "string"},
            "timestamp": TIMESTAMP,
            "received_at": TIMESTAMP,
        }
    ),
    "Attempt": obj(
        {
            "id": nullable("integer"),
            "kind": nullable("string"),
            "started_at": TIMESTAMP,
            "finished_at": TIMESTAMP,
            "status_code": nullable("integer", description="Bullhorn's HTTP status"),
            "outcome": nullable("string"),
            "error": nullable("string"),
            "explanation": nullable("string", description="what went wrong, in plain words"),
            "request_summary": nullable("string"),
        }
    ),
    "CallPage": obj(
        {
            "calls": {"type": "array", "items": ref("Call")},
            "next_cursor": nullable("string", description="pass as `cursor` for the next page; null: last page"),
        }
    ),
    "Requeued": obj(
        {
            "call_id": {"type": "integer"},
            "status": {"type": "string", "enum": SYNC_STATES},
            "requeued": {"const": True},
            "detail": {"type": "string"},
        }
    ),
    "Tags": obj(
        {
            "actions": {"type": "array", "items": {"type": "string"}, "description": "Bullhorn's commentActionList"},
            "actions_read_at": TIMESTAMP,
            "actions_stale": {"type": "boolean", "description": "true: Bullhorn failed, this is the list read earlier"},
            "tags": {"type": "array", "items": ref("Tag")},
            "default_actions": {"type": "array", "description": "CALLBRIDGE_DEFAULT_ACTIONS (and the fallback "
                                                                "CALLBRIDGE_DEFAULT_ACTION) checked like tags",
                                "items": obj({"type": {"type": "string"}, "action": {"type": "string"},
                                              "variable": {"type": "string"}, "problem": nullable("string"),
                                              "suggestion": nullable("string")})},
        },
        required=["actions", "tags"],
    ),
    "Tag": obj(
        {
            "tag": {"type": "string"},
            "calls": {"type": "integer", "minimum": 0},
            "action": nullable("string", description="what Bullhorn receives"),
            "problem": {"enum": [None, "not_an_action", "case_mismatch", "too_long"]},
            "suggestion": nullable("string", description="the action probably meant"),
        }
    ),
    "Summary": obj(
        {
            "generated_at": {"type": "string", "format": "date-time"},
            "counts": obj({state: {"type": "integer", "minimum": 0} for state in SYNC_STATES}),
            "total": {"type": "integer", "minimum": 0},
            "queue": obj(
                {
                    "depth": {"type": "integer", "minimum": 0},
                    "due": {"type": "integer", "minimum": 0},
                    "oldest_pending_age_s": nullable("number"),
                }
            ),
            "latency": obj(
                {
                    "window_hours": {"type": "integer", "minimum": 1},
                    "samples": {"type": "integer", "minimum": 0},
                    "p50_s": nullable("number"),
                    "p95_s": nullable("number"),
                }
            ),
            "cards": obj({"pushed": {"type": "integer"}, "failed": {"type": "integer"}}),
            "timeline": {
                "type": "array",
                "items": obj(
                    {
                        "hour": {"type": "string", "format": "date-time"},
                        "calls": {"type": "integer", "minimum": 0},
                        **{state: {"type": "integer", "minimum": 0} for state in SYNC_STATES},
                        "latency_p50_s": nullable("number"),
                        "latency_p95_s": nullable("number"),
                    }
                ),
            },
            "index": {"type": "object", "description": "the phone index's state"},
            "bullhorn_requests": ref("BullhornRequests"),
            "backfill": obj(
                {
                    "calls_taken_in": {"type": "integer", "minimum": 0},
                    "last_run": {"oneOf": [ref("BackfillJob"), {"type": "null"}]},
                }
            ),
        },
        required=["generated_at", "counts", "total", "queue", "latency", "cards", "timeline"],
    ),
    "BullhornRequests": obj(
        {
            "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
            "by_purpose": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
            "total": {"type": "integer", "minimum": 0},
            "projected": {"type": "integer", "minimum": 0},
            "budget": {"type": "integer", "minimum": 1},
            "index_allowance": {"type": "integer", "minimum": 0},
            "over_budget": {"type": "boolean"},
            "warning": nullable("string"),
        }
    ),
    "BackfillRequest": obj(
        {
            "from": {"type": "string", "format": "date-time", "description": "ISO 8601 with a time zone"},
            "to": nullable("string", format="date-time", description="ISO 8601 with a time zone; null: now"),
        },
        required=["from"],
    ),
    "BackfillStarted": obj({"job": {"type": "string"}}),
    "BackfillJob": obj(
        {
            "job": {"type": "string"},
            "kind": {"enum": ["periodic", "on_demand"]},
            "status": {"enum": ["running", "done", "failed"]},
            "from": {"type": "string", "format": "date-time"},
            "to": {"type": "string", "format": "date-time"},
            "seen": {"type": "integer", "minimum": 0},
            "taken_in": {"type": "integer", "minimum": 0},
            "known": {"type": "integer", "minimum": 0},
            "detail": nullable("string"),
        }
    ),
    "Health": obj({"status": {"const": "ok"}}),
    "Readiness": obj({"status": {"type": "string", "enum": ["ready", "not_ready"]}}, additionalProperties=False),
    "HealthReport": obj(
        {
            "status": {"type": "string", "enum": ["ready", "not_ready"]},
            "checks": obj(
                {
                    "store": obj({"ok": {"type": "boolean"}}, required=["ok"]),
                    "bullhorn": obj({"ok": {"type": "boolean"}, "session": {"type": "string"}},
                                    required=["ok", "session"]),
                }
            ),
        }
    ),
}
