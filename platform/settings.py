"""Configuration from COOKOUT_* environment variables (or a .env file), checked once at start-up."""

from __future__ import annotations

import secrets
from functools import cached_property
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from urllib.parse import unquote, urlsplit

from limits import parse
from pydantic import ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigurationError(Exception):
    """A COOKOUT_* value cannot be used; the message names the variable."""


SMTP_SCHEMES = {"smtp", "smtp+starttls", "smtps"}
DATABASE_SCHEMES = {"postgresql", "postgres"}
BROKER_SCHEMES = {"redis", "rediss", "amqp", "amqps", "pyamqp", "filesystem", "memory"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COOKOUT_", env_file=".env", extra="ignore")

    database_url: str | None = None
    broker_url: str | None = None
    smtp_url: str | None = None
    mail_from: str = "Cookout <cookout@localhost>"
    data_dir: Path = Path("var")
    secret_key: str | None = None
    base_url: str = "http://127.0.0.1:8000"
    # "N/window" strings in the `limits` notation; tests shorten the window.
    login_rate_limit_account: str = "5/minute"
    login_rate_limit_ip: str = "30/minute"
    comment_rate_limit: str = "10/minute"  # per member, or per guest email
    guest_comment_rate_limit_ip: str = "20/hour"  # guest comments per client address
    guest_comment_rate_limit_post: str = "30/hour"  # guest comments per post
    signup_rate_limit_ip: str = "10/hour"
    # Proxies whose X-Forwarded-For is believed: comma-separated addresses or CIDR ranges; none by default.
    trusted_proxies: str = ""
    read_your_writes_timeout: float = 2.0

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies(cls, value: str) -> str:
        parse_networks(value)
        return value

    @field_validator(
        "login_rate_limit_account", "login_rate_limit_ip", "comment_rate_limit", "guest_comment_rate_limit_ip",
        "guest_comment_rate_limit_post", "signup_rate_limit_ip",
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
        value = _check_url(value, SMTP_SCHEMES, "smtp://, smtp+starttls:// or smtps://host:port")
        if value is not None and not urlsplit(value).hostname:
            raise ValueError("needs a host, as in smtp://mail.example.org:25")
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
        return self.database_url is None

    @property
    def embedded_mail(self) -> bool:
        return self.smtp_url is None

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
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(32))
            path.chmod(0o600)
        return path.read_text().strip()

    def smtp(self) -> SmtpTarget | None:
        return SmtpTarget.parse(self.smtp_url) if self.smtp_url else None


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
