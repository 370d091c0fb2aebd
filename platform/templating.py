"""Where templates live, and the Jinja environment emails are rendered with."""

from __future__ import annotations

from pathlib import Path

import cookout.templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES_DIR = Path(next(iter(cookout.templates.__path__)))
STATIC_DIR = Path(__file__).parent / "static"

mail_templates = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html"]),
    keep_trailing_newline=True,
)
