"""`cookout web` runs uvicorn on its C HTTP parser and event loop, which cost less CPU per request."""

from __future__ import annotations

from typing import Any

import pytest
import uvicorn
import uvloop
from uvicorn.config import HTTP_PROTOCOLS
from uvicorn.importer import import_from_string
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from cookout.platform import cli
from cookout.platform.settings import Settings


def test_web_serves_with_httptools_and_uvloop(monkeypatch: pytest.MonkeyPatch) -> None:
    started: dict[str, Any] = {}
    # `web` hands its settings to uvicorn's processes in the environment; set here first, so that
    # monkeypatch puts back what was there before (nothing) after this test.
    for name in ("COOKOUT_BASE_URL", "PROMETHEUS_MULTIPROC_DIR"):
        monkeypatch.setenv(name, "set by this test")
        monkeypatch.delenv(name)
    monkeypatch.setattr(cli, "load_settings", lambda: Settings(database_url=None, smtp_url=None))
    monkeypatch.setattr(cli.uvicorn, "run", lambda app, **options: started.update(options, app=app))
    cli.main(["web", "--port", "8123"])
    config = uvicorn.Config(started.pop("app"), **{**started, "log_config": None})
    assert import_from_string(HTTP_PROTOCOLS[config.http]) is HttpToolsProtocol
    loop = config.get_loop_factory()()  # type: ignore[misc]
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()
