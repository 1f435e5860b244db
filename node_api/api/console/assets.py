"""The console's static files: its own CSS and script, and htmx from its npm package (``htmx.org``)."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from node_api.api.deps import SettingsDep
from node_api.api.routes.docs import package_file

router = APIRouter(prefix="/console/static", include_in_schema=False)

OWN = {"console.css": "text/css; charset=utf-8", "console.js": "text/javascript; charset=utf-8"}
HTMX = ("htmx.min.js",)


@router.get("/{name}")
async def static_file(name: str, settings: SettingsDep) -> Response:
    """console.css, console.js (this package) or htmx.min.js (node_modules/htmx.org/dist)."""
    if name in OWN:
        body = resources.files("node_api.api.console").joinpath("static", name).read_bytes()
        return Response(body, media_type=OWN[name], headers={"Cache-Control": "no-cache"})
    response: FileResponse = package_file(settings.assets_dir, "htmx.org", name, HTMX, sub="dist")
    return response
