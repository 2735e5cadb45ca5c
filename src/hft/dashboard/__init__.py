"""The web dashboard: the single-page app built from web/ (``make web``), served at ``/``.

Vite writes the build into ``static/`` inside this package, so it ships
with the wheel; Node.js is needed only to build it. Without a build, ``/``
answers with a page saying how to make one, and the API works as ever.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from litestar import MediaType, Response, Router, get
from litestar.datastructures import CacheControlHeader
from litestar.static_files import create_static_files_router

STATIC: Final = Path(__file__).parent / "static"
# File names under assets/ carry a hash of their content, so a browser may keep them for good.
IMMUTABLE: Final = CacheControlHeader(public=True, max_age=31_536_000, immutable=True)

NOT_BUILT: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hft</title></head>
<body style="font-family: system-ui; background: #09090b; color: #e4e4e7; padding: 2rem">
<h1>hft</h1>
<p>The venue is running, but its web dashboard has not been built.</p>
<p>Build it with <code>make web</code> (needs Node.js 20.19 or newer), then reload this page.</p>
<p>The API is available now: <a style="color: #34d399" href="/docs">/docs</a>.</p>
</body></html>
"""


@get("/", include_in_schema=False, sync_to_thread=False)
def index() -> Response[bytes]:
    """Serve the dashboard's page, read afresh each time (it is small), so a new build shows at once."""
    page = STATIC / "index.html"
    body = page.read_bytes() if page.is_file() else NOT_BUILT.encode()
    return Response(body, media_type=MediaType.HTML, headers={"Cache-Control": "no-cache"})


def dashboard_router() -> Router:
    """Return the routes of the dashboard: its page at ``/`` and its hashed assets under ``/assets``."""
    assets = create_static_files_router(
        path="/assets",
        directories=[STATIC / "assets"],
        cache_control=IMMUTABLE,
        include_in_schema=False,
    )
    return Router(path="/", route_handlers=[index, assets])
