"""Configuration: COOKOUT_* values are checked at start-up and a bad one stops Cookout with one clear line."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from cookout.platform.settings import ConfigurationError, load_settings, mail_destination, served_at

CLI = [sys.executable, "-m", "cookout.platform.cli"]


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("database_url", "mysql://root@localhost/cookout", "COOKOUT_DATABASE_URL has scheme 'mysql'"),
        ("database_url", "postgresql://h:notaport/x", "COOKOUT_DATABASE_URL cannot be parsed"),
        ("broker_url", "kafka://localhost", "COOKOUT_BROKER_URL has scheme 'kafka'"),
        ("smtp_url", "http://mail.example.org", "COOKOUT_SMTP_URL has scheme 'http'"),
        ("smtp_url", "smtp://", "COOKOUT_SMTP_URL needs a host"),
        ("base_url", "cookout.example.org", "COOKOUT_BASE_URL must be an http:// or https:// URL"),
        ("inbound_url", "pop3://mail.example.org", "COOKOUT_INBOUND_URL has scheme 'pop3'"),
        ("inbound_url", "smtp://:2525", "COOKOUT_INBOUND_URL needs a host"),
    ],
)
def test_a_bad_value_names_its_variable(variable: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        load_settings(**{variable: value})
    assert expected in str(refused.value)


def test_smtp_urls_carry_security_and_credentials() -> None:
    target = load_settings(smtp_url="smtp+starttls://ann%40x.org:p%3Ass@mail.example.org").smtp()
    assert (target.scheme, target.host, target.port, target.user, target.password) == (
        "smtp+starttls", "mail.example.org", 587, "ann@x.org", "p:ss")
    assert load_settings(smtp_url="smtps://mail.example.org").smtp().port == 465
    assert load_settings(smtp_url="smtp://localhost:1025").smtp().port == 1025


def test_a_real_database_needs_a_secret_key(tmp_path: Path) -> None:
    settings = load_settings(database_url="postgresql://db.example.org/cookout", secret_key=None, data_dir=tmp_path)
    with pytest.raises(ConfigurationError) as refused:
        _ = settings.secret
    assert "COOKOUT_SECRET_KEY is not set" in str(refused.value)


def test_embedded_mode_generates_its_secret_once(tmp_path: Path) -> None:
    first = load_settings(secret_key=None, data_dir=tmp_path).secret
    second = load_settings(secret_key=None, data_dir=tmp_path).secret
    assert first == second and len(first) >= 32
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


WATCH_SECRET_MODES = """
import os, stat, sys
from pathlib import Path
path = Path(sys.argv[1]) / "secret_key"
modes = set()

def watch(event, args):
    # Called before every audited operation (the chmod, the read): what anyone could see at that moment.
    if event in ("open", "os.chmod", "os.write") and os.path.exists(path):
        modes.add(stat.S_IMODE(os.stat(path).st_mode))

os.umask(0)  # the loosest umask a service may run with
sys.addaudithook(watch)
from cookout.platform.settings import load_settings
load_settings(secret_key=None, data_dir=sys.argv[1]).secret
print(sorted(modes))
"""


def test_the_generated_secret_key_is_never_readable_by_others_even_while_written(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-c", WATCH_SECRET_MODES, str(tmp_path)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[384]"  # 0o600, and nothing else, at every moment it was looked at


RACE_FOR_THE_SECRET = """
import os, sys, time
from cookout.platform.settings import load_settings
settings = load_settings(secret_key=None, data_dir=sys.argv[1])
print("ready", flush=True)
while not os.path.exists(sys.argv[2]):  # every process is ready: they all ask at once
    time.sleep(0.001)
print(settings.secret)
"""


def test_processes_starting_together_share_one_generated_secret_key(tmp_path: Path) -> None:
    go = tmp_path / "go"
    starting = [subprocess.Popen([sys.executable, "-c", RACE_FOR_THE_SECRET, str(tmp_path / "data"), str(go)],
                                 stdout=subprocess.PIPE, text=True) for _ in range(8)]
    for process in starting:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    go.touch()
    secrets = {process.communicate(timeout=60)[0].strip() for process in starting}
    assert secrets == {(tmp_path / "data" / "secret_key").read_text().strip()}


def run_cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=120)


def test_the_cli_stops_on_a_bad_url_with_one_line(tmp_path: Path) -> None:
    result = run_cli("projections", "status", cwd=tmp_path, COOKOUT_DATABASE_URL="nonsense://x")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("cookout: COOKOUT_DATABASE_URL has scheme")
    assert "Traceback" not in result.stderr


def test_the_cli_stops_on_an_unreachable_database_after_a_bounded_retry(tmp_path: Path) -> None:
    result = run_cli("projections", "status", cwd=tmp_path,
                     COOKOUT_DATABASE_URL="postgresql://postgres@127.0.0.1:9/cookout")
    assert result.returncode == 2
    assert "cookout: COOKOUT_DATABASE_URL cannot be reached after 6 tries" in result.stderr
    assert "Traceback" not in result.stderr


def test_projection_status_and_rebuild_from_any_directory(tmp_path: Path, settings: object, container: object) -> None:
    url = settings.database_url  # type: ignore[attr-defined]
    status = run_cli("projections", "status", cwd=tmp_path, COOKOUT_DATABASE_URL=url)
    assert status.returncode == 0, status.stderr
    assert "member_directory" in status.stdout and "welcomes" in status.stdout
    container.stop_projections()  # type: ignore[attr-defined]  # a rebuild runs while `projections run` is stopped
    try:
        rebuilt = run_cli("projections", "rebuild", "member_directory", cwd=tmp_path, COOKOUT_DATABASE_URL=url)
    finally:
        container.start_projections()  # type: ignore[attr-defined]
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "Rebuilt member_directory" in rebuilt.stdout
    unknown = run_cli("projections", "rebuild", "nope", cwd=tmp_path, COOKOUT_DATABASE_URL=url)
    assert unknown.returncode == 2
    assert "invalid choice" in unknown.stderr


def test_links_follow_the_port_the_server_listens_on_unless_a_base_url_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    assert served_at(load_settings(), "127.0.0.1", 8110).base_url == "http://127.0.0.1:8110"
    everywhere = served_at(load_settings(), "0.0.0.0", 8110).base_url
    assert everywhere.endswith(":8110") and "0.0.0.0" not in everywhere
    monkeypatch.setenv("COOKOUT_BASE_URL", "https://cookout.example.org")
    assert served_at(load_settings(), "127.0.0.1", 8110).base_url == "https://cookout.example.org"


def test_the_start_up_line_says_where_mail_goes_without_the_password() -> None:
    sent = load_settings(smtp_url="smtps://cookout:s3cret@mail.example.org", base_url="http://127.0.0.1:8110")
    assert mail_destination(sent) == "smtps://cookout@mail.example.org:465"
    assert "/dev/outbox" in mail_destination(load_settings(base_url="http://127.0.0.1:8110"))
