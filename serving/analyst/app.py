"""The analyst side as one FastAPI app, mounted in the BentoML service at ``/``.

``serving.service`` mounts it with ``@bentoml.asgi_app(analyst_app(), path="/")``: the
scoring APIs stay BentoML's, everything an analyst or admin uses is served here —

- ``/queue``, ``/report``, ``/decide``, ``GET`` and ``POST /model_card``,
  ``/admin/reload`` (``serving.analyst.routes``);
- the analyst page's static files under ``/ui`` (``serving.analyst.ui_app``);
- the API page at ``/`` and ``/docs``, Swagger UI served from this service only, its files
  under ``/static_content`` (``serving.analyst.api_page``);
- ``/docs.json``: BentoML's OpenAPI document (which already lists this app's routes)
  with the service's real answers added (``serving.openapi_doc``). BentoML routes a
  request to mounted apps before its own document route, so this one is served.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from serving.analyst.api_page import ASSETS, ApiAssets, page
from serving.analyst.case_routes import router as case_router
from serving.analyst.case_schemas import CaseInput, CasesInput, DecideCaseInput
from serving.analyst.deps import Service
from serving.analyst.errors import install_handlers
from serving.analyst.routes import router
from serving.analyst.schemas import DecideInput, NoInput, QueueInput, ReportInput
from serving.analyst.ui_app import UiApp
from serving.openapi_doc import complete

REQUEST_MODELS = (
    QueueInput,
    ReportInput,
    DecideInput,
    NoInput,
    CasesInput,
    CaseInput,
    DecideCaseInput,
)


def request_components() -> dict[str, Any]:
    """The schemas the analyst request bodies refer to (``QueueQuery``, ``DecisionIn``…)."""
    found: dict[str, Any] = {}
    for model in REQUEST_MODELS:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        found.update(schema.get("$defs", {}))
    return found


async def document(service: Service) -> JSONResponse:
    """The service's OpenAPI document, completed with what it really answers."""
    spec: dict[str, Any] = service.bento_service.openapi_spec.asdict()
    return JSONResponse(complete(spec, request_components()))


def analyst_app() -> FastAPI:
    """A new analyst app: routes, error handlers, the page, the document."""
    app = FastAPI(
        title="tipscore analyst API",
        openapi_url=None,  # the service's one document is /docs.json
        docs_url=None,
        redoc_url=None,
    )
    app.include_router(router)
    app.include_router(case_router)  # cases, bursts (issue 21)
    app.add_api_route("/docs.json", document, methods=["GET"], include_in_schema=False)
    app.mount("/ui", UiApp(), name="ui")
    for path in ("/", "/docs"):
        app.add_api_route(path, page, methods=["GET"], include_in_schema=False)
    app.mount(ASSETS, ApiAssets(), name="api-page")
    install_handlers(app)
    return app
