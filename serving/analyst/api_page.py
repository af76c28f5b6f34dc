"""The API page: Swagger UI for ``/docs.json``, served entirely by the service itself.

BentoML's own page at ``/`` loads a tag manager and links badge images from other hosts.
This service handles child-exploitation report metadata and must not send its users'
browsers anywhere else, so the page at ``/`` (and ``/docs``) is ours: a short HTML page,
Swagger UI's script and style from the ``swagger-ui-bundle`` package under
``/static_content/`` (the open prefix BentoML used), and a starter script that turns off
Swagger's online validator badge (a request to another host). A Content Security Policy
allows nothing but this origin, so even a future Swagger UI could not call out.
"""

from __future__ import annotations

from pathlib import Path

from starlette.responses import FileResponse, Response
from starlette.types import Receive, Scope, Send
from swagger_ui_bundle import swagger_ui_path

from serving.errors import routing_body

ASSETS = "/static_content"
SWAGGER_FILES = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
}
STARTER = "api-page.js"
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-cache",
}
PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>tipscore API</title>
  <link rel="icon" href="/ui/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href=".{ASSETS}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src=".{ASSETS}/swagger-ui-bundle.js"></script>
  <script src=".{ASSETS}/{STARTER}"></script>
</body>
</html>
"""
STARTER_JS = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "./docs.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    persistAuthorization: false,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
"""


def page() -> Response:
    """The API page (its scripts and style come from ``/static_content/``)."""
    return Response(PAGE, media_type="text/html", headers=SECURITY_HEADERS)


class ApiAssets:
    """Swagger UI's files from the installed package, and the page's starter script.

    Only the named files are served (the package also holds a demo page that would load
    the Swagger pet store from its host).
    """

    def __init__(self) -> None:
        self.root = Path(str(swagger_ui_path))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one named file, or answer 404 in the documented error shape."""
        path = str(scope.get("path", ""))
        name = path.rsplit("/", 1)[-1]
        method = str(scope.get("method", "GET"))
        response: Response
        if method not in ("GET", "HEAD"):
            body = routing_body(405, method, path, "GET, HEAD")
            response = Response(
                body, 405, media_type="application/json", headers={"Allow": "GET, HEAD"}
            )
        elif name == STARTER:
            response = Response(
                STARTER_JS, media_type="text/javascript", headers=SECURITY_HEADERS
            )
        elif name in SWAGGER_FILES:
            response = FileResponse(
                self.root / name,
                media_type=SWAGGER_FILES[name],
                headers=SECURITY_HEADERS,
            )
        else:
            body = routing_body(404, method, path, None)
            response = Response(body, 404, media_type="application/json")
        await response(scope, receive, send)
