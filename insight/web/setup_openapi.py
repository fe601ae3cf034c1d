"""The setup doctor's part of the OpenAPI document (`insight.web.openapi` merges it in)."""

from __future__ import annotations

from typing import Any

from insight.web.openapi_schemas import Schema, nullable, obj, ref


def _error(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


def _json(description: str, schema: Schema) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_CHECK_PROPERTIES: dict[str, Schema] = {
    "id": {"type": "string"},
    "title": {"type": "string"},
    "status": {"type": "string", "enum": ["ok", "warn", "fail"]},
    "detail": {"type": "string", "description": "what was found, in plain words"},
    "fix": nullable("string", description="the fix id for POST /api/setup/fix, when one applies"),
    "fix_description": nullable("string", description="what the fix will do, said before it runs"),
    "items": {"type": "array", "items": {"type": "object"}, "description": "rows behind the detail"},
}

SETUP_SCHEMAS: dict[str, Schema] = {
    "SetupCheck": obj(_CHECK_PROPERTIES, required=["id", "title", "status", "detail", "fix"]),
    "SetupChecks": obj({"checks": {"type": "array", "items": ref("SetupCheck")}}),
    "SetupFixRequest": obj({"fix": {"type": "string", "minLength": 1, "description": "register_webhook, "
                                    "enable_webhook, create_tags or rename_tag:<tag id>"}},
                           additionalProperties=False),
    "SetupFixResult": obj({**_CHECK_PROPERTIES, "changed": {"type": "boolean"}},
                          required=["id", "title", "status", "detail", "fix", "changed"]),
}

SETUP_PATHS: dict[str, Any] = {
    "/api/setup": {
        "get": {
            "tags": ["setup"],
            "summary": "The setup doctor: Bullhorn login and rights, Aircall credentials, webhook, agents, tags, "
                       "phone index, API budget",
            "operationId": "setupChecks",
            "security": [{"apiKey": []}],
            "responses": {"200": _json("every check, ok, warn or fail", ref("SetupChecks")),
                          "401": _error("Unauthorized")},
        }
    },
    "/api/setup/fix": {
        "post": {
            "tags": ["setup"],
            "summary": "Apply one fix (idempotent) and answer its check's new state",
            "description": "When Aircall or Bullhorn refuses, the answer is still the check: its detail says why.",
            "operationId": "setupFix",
            "security": [{"apiKey": []}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": ref("SetupFixRequest")}}},
            "responses": {
                "200": _json("the check after the fix; `changed`: whether anything was done", ref("SetupFixResult")),
                "400": _error("BadRequest"),
                "401": _error("Unauthorized"),
                "404": _json("no such fix, or no such Aircall tag to rename", ref("Error")),
                "413": _error("PayloadTooLarge"),
            },
        }
    },
}
