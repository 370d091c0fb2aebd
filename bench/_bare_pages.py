"""The ceiling for bench/pages.py: a bare Litestar app that renders the pages `cookout web` served, from the
template names and contexts captured while it served them, with no database, session, metrics or logging.

It has what rendering a page needs and nothing else: the same templates and Jinja environment (Cookout's
template callables, with the ones that read a view answering what they answered when captured), the same
CSRF token in every form, and the same gzip. A request with a `cookout_session` cookie gets the page as
the member saw it, one without as a visitor did.

    COOKOUT_BENCH_CAPTURED=captured.pickle uvicorn --factory --app-dir bench _bare_pages:create_bare_app
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from jinja2 import pass_context
from litestar import Litestar, Request, get
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Template
from litestar.template.config import TemplateConfig

from cookout.platform.templating import TEMPLATES_DIR
from cookout.platform.web.app import register_template_callables
from cookout.platform.web.base import VIEWER_KEY

# What the captured pages' template callables answered, replayed instead of read: these read the views.
REPLAYED = ("viewer", "flashes")
CAPTURED_KEY = "bench.captured"


def replayed(name: str) -> Any:
    def answer(context: Any, *args: Any, **kwargs: Any) -> Any:
        return context["request"].scope[CAPTURED_KEY]["callables"].get(name)
    return pass_context(answer)


def bare_callables(engine: JinjaTemplateEngine) -> None:
    register_template_callables(engine)
    for name in REPLAYED:
        engine.engine.globals[name] = replayed(name)


def create_bare_app() -> Litestar:
    saved = pickle.loads(Path(os.environ["COOKOUT_BENCH_CAPTURED"]).read_bytes())
    captured: dict[tuple[str, str], dict[str, Any]] = saved["pages"]

    def render(request: Request[Any, Any, Any], path: str) -> Template:
        who = "member" if "cookout_session" in request.cookies else "visitor"
        page = captured[(path, who)]
        # The viewer's zone and email confirmation as the real page read them, without the read.
        request.scope[VIEWER_KEY] = page["viewer"]  # type: ignore[literal-required]
        request.scope[CAPTURED_KEY] = page  # type: ignore[literal-required]
        return Template(template_name=page["template"], context=page["context"])

    @get("/", sync_to_thread=False)
    def home(request: Request[Any, Any, Any]) -> Template:
        return render(request, "/")

    @get("/t/{slug:str}", sync_to_thread=False)
    def tribe(request: Request[Any, Any, Any], slug: str) -> Template:
        return render(request, f"/t/{slug}")

    @get("/m/{ref:str}", sync_to_thread=False)
    def meetup(request: Request[Any, Any, Any], ref: str) -> Template:
        return render(request, f"/m/{ref}")

    return Litestar(
        route_handlers=[home, tribe, meetup],
        openapi_config=None,
        logging_config=None,
        template_config=TemplateConfig(directory=TEMPLATES_DIR, engine=JinjaTemplateEngine,
                                       engine_callback=bare_callables),
        compression_config=CompressionConfig(backend="gzip", gzip_compress_level=6),
        csrf_config=CSRFConfig(secret="bench-secret", cookie_samesite="lax"),
        state=State({"settings": SimpleNamespace(base_url=saved["base_url"])}),  # for links the pages write out
    )
