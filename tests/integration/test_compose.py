"""compose.yaml runs the real CLI with real settings: every command parses, every variable is a setting."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from cookout.platform.cli import parser
from cookout.platform.settings import Settings

COMPOSE_FILE = Path(__file__).resolve().parents[2] / "compose.yaml"
APP_SERVICES = ("web", "projections", "worker", "beat", "inbound")
BACKING_SERVICES = ("postgres", "redis", "mailpit")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def command_words(service: dict[str, Any]) -> list[str]:
    command = service.get("command") or []
    return shlex.split(command) if isinstance(command, str) else [str(word) for word in command]


def cookout_commands(compose: dict[str, Any]) -> dict[str, list[str]]:
    found = {}
    for name, service in compose["services"].items():
        words = command_words(service)
        if words and words[0] == "cookout":
            found[name] = words[1:]
    return found


def test_every_cookout_command_in_compose_is_one_the_cli_accepts(compose: dict[str, Any]) -> None:
    commands = cookout_commands(compose)
    assert set(APP_SERVICES) <= set(commands)
    for name, arguments in commands.items():
        try:
            parser().parse_args(arguments)
        except SystemExit:
            pytest.fail(f"service {name}: `cookout {' '.join(arguments)}` is not a command the CLI accepts")


def test_every_cookout_variable_in_compose_is_a_setting(compose: dict[str, Any]) -> None:
    named = set(re.findall(r"\bCOOKOUT_[A-Z0-9_]+", COMPOSE_FILE.read_text()))
    for service in compose["services"].values():
        environment = service.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(item.partition("=")[::2] for item in environment)
        named |= {key for key in environment if key.startswith("COOKOUT_")}
    assert named
    unknown = sorted(name for name in named if name.removeprefix("COOKOUT_").lower() not in Settings.model_fields)
    assert unknown == [], f"compose.yaml sets variables Cookout does not read: {unknown}"


def test_compose_runs_every_part_of_cookout_beside_its_backing_services(compose: dict[str, Any]) -> None:
    assert set(APP_SERVICES + BACKING_SERVICES) <= set(compose["services"])


def test_every_app_service_waits_for_a_healthy_postgres(compose: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        depends_on = compose["services"][name].get("depends_on") or {}
        assert isinstance(depends_on, dict), f"{name} must name the condition it waits for"
        assert depends_on.get("postgres", {}).get("condition") == "service_healthy", name


def test_app_services_reach_the_backing_services_by_their_compose_names(compose: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        environment = compose["services"][name]["environment"]
        assert "@postgres:" in environment["COOKOUT_DATABASE_URL"]
        assert environment["COOKOUT_BROKER_URL"].startswith("redis://redis:")
        assert environment["COOKOUT_SMTP_URL"].startswith("smtp://mailpit:")


def test_the_web_container_is_healthy_only_when_cookout_is_ready(compose: dict[str, Any], client: Any) -> None:
    probe = " ".join(compose["services"]["web"]["healthcheck"]["test"])
    path = re.search(r"http://127\.0\.0\.1:8000(/\w+)", probe).group(1)  # type: ignore[union-attr]
    assert path == "/readyz"
    assert client.get(path).json() == {"status": "ready"}
