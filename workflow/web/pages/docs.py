"""The API documentation page, rendered here from the OpenAPI document (no scripts from a CDN)."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from workflow.web.pages._render import page

router = APIRouter()

METHODS = ("get", "post", "put", "patch", "delete")


@router.get("/api/docs")
def api_docs(request: Request) -> Response:
    spec: dict[str, Any] = request.app.openapi()
    operations = []
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            operations.append(
                {
                    "id": f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", ""),
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "tag": (op.get("tags") or ["overig"])[0],
                    "parameters": op.get("parameters", []),
                    "body": _ref_name(body.get("schema", {})),
                    "responses": sorted(op.get("responses", {}).items()),
                }
            )
    schemas = spec.get("components", {}).get("schemas", {})
    return page(
        request,
        "api_docs.html",
        {"title": "API-documentatie", "operations": operations, "schemas": schemas},
    )


def _ref_name(schema: dict[str, Any]) -> str:
    ref = str(schema.get("$ref", ""))
    return ref.rsplit("/", 1)[-1]
