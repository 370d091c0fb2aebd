"""Static files under fingerprinted names: `/static/cookout.3f2a9c1e.css` carries a hash of the file's
content, so a browser may keep it for a year and still gets the new file the moment it changes.

The names are computed once, at start-up; templates ask for them with `static_url("cookout.css")`.
The plain name, and a fingerprint from an older release, still answer (with a short cache), so a page
cached or opened before a deploy keeps its styles and scripts.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from pathlib import Path

from litestar import get
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import File

from cookout.platform.templating import STATIC_DIR

PREFIX = "/static"
FOREVER = CacheControlHeader(public=True, max_age=31_536_000, immutable=True)
# An unfingerprinted or outdated name: the content behind it may change at the next deploy.
SHORTLY = CacheControlHeader(public=True, max_age=300)
_FINGERPRINT = re.compile(r"^(?P<stem>.+)\.(?P<hash>[0-9a-f]{10})(?P<suffix>\.[^.]+)$")


def fingerprinted(path: Path) -> str:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
    return f"{path.stem}.{digest}{path.suffix}"


class Assets:
    """The files of one folder, by plain name and by fingerprinted name."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.names = {path.name: fingerprinted(path) for path in sorted(folder.iterdir()) if path.is_file()}
        self.current = {name: plain for plain, name in self.names.items()}

    def url(self, name: str) -> str:
        """For templates: the URL of a file under its fingerprinted name (KeyError for a file we lack)."""
        return f"{PREFIX}/{self.names[name]}"

    def lookup(self, requested: str) -> tuple[Path, bool] | None:
        """The file a request names, and whether the name is the current fingerprint (cacheable forever)."""
        if requested in self.current:
            return self.folder / self.current[requested], True
        match = _FINGERPRINT.match(requested)
        plain = f"{match['stem']}{match['suffix']}" if match and requested not in self.names else requested
        if plain in self.names:
            return self.folder / plain, False
        return None


ASSETS = Assets(STATIC_DIR)


def static_url(name: str) -> str:
    return ASSETS.url(name)


@get(f"{PREFIX}/{{name:str}}", opt={"catch_up": False}, include_in_schema=False)
async def static_file(name: FromPath[str]) -> File:
    found = ASSETS.lookup(name)
    if found is None:
        raise NotFoundException("No such file.")
    path, current = found
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return File(path=path, media_type=media_type, content_disposition_type="inline",
                headers={"Cache-Control": (FOREVER if current else SHORTLY).to_header()})


ROUTES = [static_file]
