from __future__ import annotations

from pathlib import Path

import pytest
from openapi_spec_validator import validate
from starlette.routing import Mount, Route

from insight.app import create_app
from insight.web.openapi import openapi_document
from shared.settings import load_settings
from tests.route_kit import app_operations
from tests.stack import running_stack
from tests.stack import test_environ as stack_environ

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def _described() -> set[tuple[str, str]]:
    document = openapi_document()
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def test_the_document_is_valid_openapi_3_1() -> None:
    document = openapi_document()

    validate(document)
    assert document["openapi"].startswith("3.1")


def test_every_route_of_the_app_is_described_with_its_methods_and_nothing_else() -> None:
    app = create_app(load_settings(stack_environ("sqlite://")))

    served = app_operations(app.routes)

    assert served - _described() == set(), "routes missing from insight/openapi.py"
    assert _described() - served == set(), "operations described in insight/openapi.py that the app does not serve"


def test_routes_inside_mounts_are_walked_too() -> None:
    routes = [Mount("/v2", routes=[Route("/calls/{call_id:int}", lambda request: None, methods=["DELETE"])])]

    assert app_operations(routes) == {("DELETE", "/v2/calls/{call_id}")}


def test_every_api_operation_needs_the_key_and_every_error_is_the_json_error_body() -> None:
    document = openapi_document()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if path.startswith("/api/"):
                assert operation["security"] == [{"apiKey": []}], (method, path)
                assert "401" in operation["responses"], (method, path)
            for status, response in operation["responses"].items():
                if int(status) >= 400 and "$ref" in response:
                    name = response["$ref"].rpartition("/")[2]
                    schema = document["components"]["responses"][name]["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}


@pytest.mark.anyio
async def test_the_document_is_served_at_openapi_json(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        response = await stack.web.get("/openapi.json")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == openapi_document()
