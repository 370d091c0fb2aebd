"""The Litestar application factory."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from jinja2 import pass_context
from markupsafe import Markup

from litestar import Litestar, Router
from litestar.di import Provide
from litestar.datastructures import State
from litestar.config.csrf import CSRFConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.plugins.htmx import HTMXPlugin, HTMXRequest
from litestar.config.compression import CompressionConfig
from litestar.template.config import TemplateConfig

from cookout.platform.web import accounts, assets, calendar_links, meetups, pages
from cookout.platform.web import data_export, settings_pages
from cookout.platform.web import agenda, calendars, check_in, rsvp
from cookout.platform.web import email_confirmation, monitoring, passwords
from cookout.platform.web import comments, moderation, posts, subscriptions, tribes
from cookout.platform.web.auth import SignInLimits, session_config
from cookout.platform.web.comments import CommentLimits
from cookout.platform.web.errors import EXCEPTION_HANDLERS
from cookout.platform.web.headers import security_headers
from cookout.domain import comments as comment_rules, meetups as meetup_rules
from cookout.platform.container import Container, bootstrap
from cookout.platform.settings import Settings, load_settings
from cookout.platform import templating
from cookout.platform.templating import TEMPLATES_DIR
from cookout.platform.web.base import catch_up, flashes, viewer, viewer_zone

MAX_BODY_BYTES = 1_000_000  # forms only; a larger body is refused with 413

ROUTES = [
    *pages.ROUTES,
    *accounts.ROUTES,
    *settings_pages.ROUTES,
    *data_export.ROUTES,
    *passwords.ROUTES,
    *email_confirmation.ROUTES,
    *tribes.ROUTES,
    *posts.ROUTES,
    *comments.ROUTES,
    *moderation.ROUTES,
    *subscriptions.ROUTES,
    *meetups.ROUTES,
    *rsvp.ROUTES,
    *agenda.ROUTES,
    *check_in.ROUTES,
    *calendars.ROUTES,
    *monitoring.ROUTES,
]


# The domain's words the templates compare against, named once here rather than copied into each template.
TEMPLATE_CONSTANTS = {
    "MAX_DEPTH": comment_rules.MAX_DEPTH,
    **{name: getattr(comment_rules, name) for name in ("VISIBLE", "PENDING", "HIDDEN", "SPAM")},
    **{name: getattr(meetup_rules, name)
       for name in ("INVITED", "GOING", "MAYBE", "NOT_GOING", "WAITLISTED", "CAN_CHECK_IN")},
}


def local_time(context: Mapping[str, Any], instant: datetime, pattern: str = templating.DATE_TIME) -> Markup:
    """The `localtime` filter: an instant as a `<time>` in the viewer's zone (see `templating.moment`)."""
    return templating.moment(instant, viewer_zone(context["request"]), pattern)


def meetup_time(context: Mapping[str, Any], meetup: Mapping[str, Any]) -> Markup:
    """For templates: when a meetup happens, in the venue's zone and the viewer's (see `templating.meetup_time`)."""
    online = bool(meetup.get("online_url")) and not meetup.get("venue")
    return templating.meetup_time(meetup["starts_at"], meetup["ends_at"], meetup["timezone"],
                                  viewer_zone(context["request"]), online)


def register_template_callables(engine: JinjaTemplateEngine) -> None:
    engine.engine.globals.update(TEMPLATE_CONSTANTS)
    engine.engine.globals.update(DATE_TIME=templating.DATE_TIME, DAY_TIME=templating.DAY_TIME, TIME=templating.TIME)
    engine.engine.filters["localtime"] = pass_context(local_time)
    engine.register_template_callable("meetup_time", meetup_time)
    engine.register_template_callable("viewer", viewer)
    engine.register_template_callable("flashes", flashes)
    engine.register_template_callable("email_unconfirmed", email_confirmation.email_unconfirmed)
    engine.engine.globals["static_url"] = assets.static_url
    engine.engine.globals["webcal"] = calendar_links.webcal
    engine.register_template_callable("webcal_url", calendar_links.webcal_url)


def provide(value: Any) -> Provide:
    """A dependency that is always this one object, built by the composition root."""
    def dependency() -> Any:
        return value
    return Provide(dependency, sync_to_thread=False)


def dependencies(container: Container, **extra: Any) -> dict[str, Provide]:
    """What handlers ask for by parameter name: the container, or just the service they use."""
    return {
        "container": provide(container),
        "settings": provide(container.settings),
        **{name: provide(service) for name, service in container.services.named().items()},
        **{name: provide(value) for name, value in extra.items()},
    }


def create_app(settings: Settings | None = None, container: Container | None = None) -> Litestar:
    """The app on `container`; without one (`cookout web`'s processes) it bootstraps its own and closes it
    on shutdown. `settings` other than the container's (tests, benchmarks) get a limiter of their own."""
    owned = container is None
    if container is None:
        container = bootstrap(settings or load_settings())
    elif settings is not None and settings is not container.settings:
        container = container.with_settings(settings)
    settings = container.settings
    template_config = TemplateConfig(
        directory=TEMPLATES_DIR,
        engine=JinjaTemplateEngine,
        engine_callback=register_template_callables,
    )

    sign_in_limits = SignInLimits(settings, container.limiter)
    comment_limits = CommentLimits(settings, container.limiter)

    def close_container(app: Litestar) -> None:
        if owned:
            app.state.container.close()

    return Litestar(
        # One router for all pages: Litestar registers handlers sharing a path (GET and POST /settings)
        # twice when they arrive in separate registrations, wrapping sync handlers in a thread twice.
        route_handlers=[
            Router(path="/", route_handlers=ROUTES),
            *assets.ROUTES,
        ],
        openapi_config=None,
        # Logging is the process's (platform/logs.py, set up by the CLI): Litestar's own would replace it.
        logging_config=None,
        template_config=template_config,
        plugins=[HTMXPlugin()],
        request_class=HTMXRequest,  # handlers read `request.htmx`
        # Brotli needs the `brotli` package, which Cookout does not pull in; gzip is in every browser.
        compression_config=CompressionConfig(backend="gzip", gzip_compress_level=6),
        # The request id outermost, so the metrics, the session and the handler all run under it.
        middleware=[monitoring.request_ids, monitoring.PROMETHEUS.middleware, session_config(settings).middleware],
        csrf_config=CSRFConfig(
            secret=settings.secret, cookie_secure=settings.https, cookie_samesite="lax",
            exclude=["/static"],
        ),
        exception_handlers=EXCEPTION_HANDLERS,
        before_request=catch_up,
        before_send=[security_headers(settings.https)],
        request_max_body_size=MAX_BODY_BYTES,
        on_shutdown=[close_container],
        dependencies=dependencies(container, sign_in_limits=sign_in_limits, comment_limits=comment_limits),
        state=State({"container": container, "settings": settings, "limiter": container.limiter}),
    )
