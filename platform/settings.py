"""Configuration from COOKOUT_* environment variables (or a .env file), checked once at start-up."""

from __future__ import annotations

import os
import secrets
import socket
import time
from functools import cached_property
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from limits import parse
from pydantic import ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigurationError(Exception):
    """A COOKOUT_* value cannot be used; the message names the variable."""


SMTP_SCHEMES = {"smtp", "smtp+starttls", "smtps"}
DATABASE_SCHEMES = {"postgresql", "postgres"}
BROKER_SCHEMES = {"redis", "rediss", "amqp", "amqps", "pyamqp", "filesystem", "memory"}
INBOUND_SCHEMES = {"smtp", "imap", "imaps"}
MAIL_OFF = "off"  # COOKOUT_SMTP_URL=off: letters are written as .eml files and never sent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COOKOUT_", env_file=".env", extra="ignore")

    database_url: str | None = None
    # Set by `cookout serve` for its children: the URL it hands them is its own embedded server's.
    database_is_embedded: bool = False
    broker_url: str | None = None
    smtp_url: str | None = None
    mail_from: str = "Cookout <cookout@localhost>"
    # Calendar answers (iTIP REPLY): where they arrive, the domain of their rsvp+… address, whose
    # Authentication-Results header to believe.
    inbound_url: str | None = None
    reply_domain: str | None = None
    inbound_authserv_id: str | None = None
    data_dir: Path = Path("var")
    secret_key: str | None = None
    health_token: str | None = None  # `Authorization: Bearer <token>` shows /healthz's details to a monitor
    base_url: str = "http://127.0.0.1:8000"
    # "N/window" strings in the `limits` notation; tests shorten the window.
    login_rate_limit_account: str = "5/minute"
    login_rate_limit_ip: str = "30/minute"
    comment_rate_limit: str = "10/minute"  # per member, or per guest email
    check_in_code_rate_limit: str = "5/10 minutes"  # tries at a meetup's check-in code, per member and meetup
    guest_comment_rate_limit_ip: str = "20/hour"  # guest comments per client address
    guest_comment_rate_limit_post: str = "30/hour"  # guest comments per post
    signup_rate_limit_ip: str = "10/hour"
    password_reset_rate_limit_address: str = "3/hour"  # reset links asked for one address
    password_reset_rate_limit_ip: str = "10/hour"  # reset links asked for from one client address
    # Proxies whose X-Forwarded-For is believed: comma-separated addresses or CIDR ranges; none by default.
    trusted_proxies: str = ""
    read_your_writes_timeout: float = 2.0
    log_format: Literal["text", "json"] = "text"  # how every process logs: readable lines, or JSON lines

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies(cls, value: str) -> str:
        parse_networks(value)
        return value

    @field_validator(
        "login_rate_limit_account", "login_rate_limit_ip", "comment_rate_limit", "guest_comment_rate_limit_ip",
        "guest_comment_rate_limit_post", "signup_rate_limit_ip", "check_in_code_rate_limit",
        "password_reset_rate_limit_address", "password_reset_rate_limit_ip",
    )
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        try:
            parse(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate limit; write it as in 10/minute or 5 per 3 second") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        return _check_url(value, DATABASE_SCHEMES, "a postgresql:// URL")

    @field_validator("broker_url")
    @classmethod
    def _broker_url(cls, value: str | None) -> str | None:
        return _check_url(value, BROKER_SCHEMES, "a redis://, amqp:// or filesystem:// URL")

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str | None) -> str | None:
        if value is not None and value.strip().lower() == MAIL_OFF:
            return MAIL_OFF
        value = _check_url(value, SMTP_SCHEMES, "smtp://, smtp+starttls:// or smtps://host:port, or off")
        if value is not None and not urlsplit(value).hostname:
            raise ValueError("needs a host, as in smtp://mail.example.org:25")
        return value

    @field_validator("inbound_url")
    @classmethod
    def _inbound_url(cls, value: str | None) -> str | None:
        value = _check_url(value, INBOUND_SCHEMES, "smtp://host:port, or imap:// or imaps://user:password@host/Mailbox")
        if value is not None and not urlsplit(value).hostname:
            raise ValueError("needs a host, as in smtp://0.0.0.0:2525")
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError("must be an http:// or https:// URL, as in https://cookout.example.org")
        return value.rstrip("/")

    @property
    def embedded_database(self) -> bool:
        return self.database_url is None or self.database_is_embedded

    @property
    def embedded_mail(self) -> bool:
        """Letters are kept as .eml files in the outbox folder rather than sent."""
        return self.smtp_url is None or self.smtp_url == MAIL_OFF

    @property
    def shows_outbox(self) -> bool:
        """The /dev/outbox preview: only on a machine that is all Cookout's own (it lists every letter)."""
        return self.embedded_database and self.smtp_url is None

    def check_mail(self) -> None:
        """A real deployment says where its mail goes: silence would lose every letter unnoticed."""
        if not self.embedded_database and self.smtp_url is None:
            raise ConfigurationError(
                "COOKOUT_SMTP_URL is not set: with a real database Cookout needs a mail server "
                "(smtp://host:port), or COOKOUT_SMTP_URL=off to keep letters as .eml files in DATA_DIR/outbox "
                "without sending them"
            )

    @property
    def data_path(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def outbox_dir(self) -> Path:
        return self.data_path / "outbox"

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    @cached_property
    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return parse_networks(self.trusted_proxies)

    @cached_property
    def secret(self) -> str:
        """The secret key; generated once into the data dir in embedded mode only."""
        if self.secret_key:
            return self.secret_key
        if not self.embedded_database:
            raise ConfigurationError(
                "COOKOUT_SECRET_KEY is not set: with a real database Cookout needs a fixed secret "
                "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        path = self.data_path / "secret_key"
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL: of two processes starting together one creates it, and the other reads it.
            # The mode is given at creation, so the key is never readable by others, not even briefly.
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return _read_secret(path)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(32))
        return _read_secret(path)

    def smtp(self) -> SmtpTarget | None:
        return SmtpTarget.parse(self.smtp_url) if self.smtp_url and self.smtp_url != MAIL_OFF else None


class SmtpTarget:
    def __init__(self, scheme: str, host: str, port: int, user: str | None, password: str | None):
        self.scheme, self.host, self.port, self.user, self.password = scheme, host, port, user, password

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url)
        default_port = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}[parts.scheme]
        return cls(
            scheme=parts.scheme,
            host=parts.hostname or "localhost",
            port=parts.port or default_port,
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


def _read_secret(path: Path, attempts: int = 50) -> str:
    """The key in the file; a moment's wait if the process that created it has not written it yet."""
    for _ in range(attempts):
        secret = path.read_text().strip()
        if secret:
            return secret
        time.sleep(0.02)
    raise ConfigurationError(f"{path} is empty: delete it, and Cookout generates a new secret key")


def _check_url(value: str | None, schemes: set[str], expected: str) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError:
        raise ValueError(f"cannot be parsed; expected {expected}") from None
    if parts.scheme not in schemes:
        raise ValueError(f"has scheme {parts.scheme or '(none)'!r}; expected {expected}")
    return value


def parse_networks(value: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """Comma-separated addresses or CIDR ranges; ValueError names a bad one."""
    networks = []
    for part in (piece.strip() for piece in value.split(",")):
        if part:
            try:
                networks.append(ip_network(part, strict=False))
            except ValueError:
                raise ValueError(f"has {part!r}, which is not an IP address or CIDR range") from None
    return tuple(networks)


def served_at(settings: Settings, host: str, port: int) -> Settings:
    """The settings for a server on `host:port`: unless COOKOUT_BASE_URL says otherwise (in the
    environment or .env), links in letters, .ics files and feeds point at where it listens."""
    if "base_url" in settings.model_fields_set:
        return settings
    if host in {"0.0.0.0", "::", ""}:
        # Every interface: the machine's name reaches it from elsewhere, where 0.0.0.0 means nothing.
        host = socket.gethostname() or "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return settings.model_copy(update={"base_url": f"http://{host}:{port}"})


def mail_destination(settings: Settings) -> str:
    """Where letters go, for the start-up line: the outbox page, or the SMTP server without its password."""
    target = settings.smtp()
    if target is None:
        shown = f", shown at {settings.base_url}/dev/outbox" if settings.shows_outbox else ""
        return f"kept as .eml files in {settings.outbox_dir}{shown}"
    user = f"{target.user}@" if target.user else ""
    return f"{target.scheme}://{user}{target.host}:{target.port}"


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning a bad value into one line that names the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            name = "COOKOUT_" + "_".join(str(part) for part in problem["loc"]).upper()
            message = problem["msg"].removeprefix("Value error, ")
            lines.append(f"{name} {message}")
        raise ConfigurationError("; ".join(lines)) from None
