"""The Litestar application factory."""

from __future__ import annotations

from litestar import Litestar, Router
from litestar.datastructures import State
from litestar.config.csrf import CSRFConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.plugins.htmx import HTMXPlugin
from litestar.config.compression import CompressionConfig
from litestar.template.config import TemplateConfig

from cookout.platform.web import accounts, assets, calendar_links, meetups, pages
from cookout.platform.web import settings_pages
from cookout.platform.web import comments, moderation, posts, subscriptions, tribes
from cookout.platform.web.auth import SignInLimits, session_config
from cookout.platform.web.errors import EXCEPTION_HANDLERS
from cookout.platform.web.headers import security_headers
from cookout.platform.web.ratelimits import new_limiter
from cookout.platform.runtime import Runtime
from cookout.platform.settings import Settings, load_settings
from cookout.platform.templating import TEMPLATES_DIR
from cookout.platform.web.base import catch_up, flashes, viewer

MAX_BODY_BYTES = 1_000_000  # forms only; a larger body is refused with 413

ROUTES = [
    *pages.ROUTES,
    *accounts.ROUTES,
    *settings_pages.ROUTES,
    *tribes.ROUTES,
    *posts.ROUTES,
    *comments.ROUTES,
    *moderation.ROUTES,
    *subscriptions.ROUTES,
    *meetups.ROUTES,
]


def register_template_callables(engine: JinjaTemplateEngine) -> None:
    engine.register_template_callable("viewer", viewer)
    engine.register_template_callable("flashes", flashes)
    engine.register_template_callable("upcoming_meetups", meetups.upcoming_meetups)
    engine.engine.globals["static_url"] = assets.static_url
    engine.engine.globals["webcal"] = calendar_links.webcal
    engine.register_template_callable("webcal_url", calendar_links.webcal_url)


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Litestar:
    settings = settings or (runtime.settings if runtime else load_settings())
    template_config = TemplateConfig(
        directory=TEMPLATES_DIR,
        engine=JinjaTemplateEngine,
        engine_callback=register_template_callables,
    )
    owned: list[Runtime] = []
    limiter = new_limiter(settings)  # every rate limit counts here

    def open_runtime(app: Litestar) -> None:
        if app.state.get("runtime") is None:
            opened = Runtime(settings)
            opened.prepare()
            owned.append(opened)
            app.state.runtime = opened

    def close_runtime(app: Litestar) -> None:
        for opened in owned:
            opened.close()

    return Litestar(
        # One router for all pages: Litestar registers handlers sharing a path (GET and POST /settings)
        # twice when they arrive in separate registrations, wrapping sync handlers in a thread twice.
        route_handlers=[
            Router(path="/", route_handlers=ROUTES),
            *assets.ROUTES,
        ],
        openapi_config=None,
        template_config=template_config,
        plugins=[HTMXPlugin()],
        # Brotli needs the `brotli` package, which Cookout does not pull in; gzip is in every browser.
        compression_config=CompressionConfig(backend="gzip", gzip_compress_level=6),
        middleware=[session_config(settings).middleware],
        csrf_config=CSRFConfig(
            secret=settings.secret, cookie_secure=settings.https, cookie_samesite="lax",
            exclude=["/static"],
        ),
        exception_handlers=EXCEPTION_HANDLERS,
        before_request=catch_up,
        before_send=[security_headers(settings.https)],
        request_max_body_size=MAX_BODY_BYTES,
        on_startup=[open_runtime],
        on_shutdown=[close_runtime],
        state=State({"runtime": runtime, "settings": settings, "limiter": limiter,
                     "sign_in_limits": SignInLimits(settings, limiter)}),
    )
