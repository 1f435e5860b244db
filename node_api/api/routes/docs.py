"""The API's interactive documentation (``/docs``), served whole by the node.

FastAPI's default page loads Swagger UI from a CDN, which a government intranet cannot
reach (the page stays blank). Here its files come from the npm package ``swagger-ui-dist``
(pinned in package.json, installed by ``make install``) and are served by the node itself,
like the console's htmx (``node_api.api.console``).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse

from node_api.api.deps import SettingsDep
from node_api.errors import NotFoundError

router = APIRouter(include_in_schema=False)

SWAGGER_PACKAGE = "swagger-ui-dist"
SWAGGER_FILES = ("swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png")


def package_file(
    assets_dir: Path, package: str, name: str, allowed: tuple[str, ...], sub: str = ""
) -> FileResponse:
    """One file of an npm package under ``assets_dir``, by name from an allowlist; 404 otherwise."""
    if name not in allowed:
        raise NotFoundError(f"no asset {name}")
    path = assets_dir / package / sub / name
    if not path.is_file():
        raise NotFoundError(f"asset {package}/{name} is not installed: run `make install` (npm ci)")
    return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    """Swagger UI over /openapi.json, every file from this node."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="projchain API",
        swagger_js_url="/docs/assets/swagger-ui-bundle.js",
        swagger_css_url="/docs/assets/swagger-ui.css",
        swagger_favicon_url="/docs/assets/favicon-32x32.png",
        oauth2_redirect_url="/docs/oauth2-redirect",
    )


@router.get("/docs/oauth2-redirect")
async def swagger_ui_redirect() -> HTMLResponse:
    """Swagger UI's OAuth2 redirect page (inline script, nothing loaded)."""
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/docs/assets/{name}")
async def swagger_asset(name: str, settings: SettingsDep) -> FileResponse:
    """A Swagger UI file from the npm package ``swagger-ui-dist``."""
    return package_file(settings.assets_dir, SWAGGER_PACKAGE, name, SWAGGER_FILES)
