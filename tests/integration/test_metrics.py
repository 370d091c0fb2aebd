"""/metrics: Prometheus's text format, for loopback or the health token, with what an operator graphs."""

from __future__ import annotations

from email.message import EmailMessage

from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families

from cookout.platform.container import Container
from cookout.platform.inbound.replies import receive
from cookout.projections.outbox import Welcomes
from cookout.projections.registry import PROJECTIONS
from tests.conftest import HEALTH_TOKEN
from tests.helpers import PASSWORD, unique

TOKEN = {"Authorization": f"Bearer {HEALTH_TOKEN}"}


def scrape(client: TestClient) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Every sample: name → {labels → value}."""
    answer = client.get("/metrics", headers=TOKEN)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def test_metrics_are_refused_to_an_outside_caller_without_the_token(client: TestClient) -> None:
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer not-the-token"}).status_code == 403
    assert client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 403


def test_request_latency_is_counted_by_route_template_not_by_path(client: TestClient) -> None:
    slug = unique()
    assert client.get(f"/t/{slug}").status_code == 404
    assert client.get("/").status_code == 200
    samples = scrape(client)
    routes = {dict(labels)["path"] for labels in samples["cookout_request_duration_seconds_count"]}
    assert {"/", "/t/{slug}"} <= routes
    assert not any(slug in route for route in routes)
    home = {dict(labels)["status_code"]: value for labels, value in samples["cookout_request_duration_seconds_count"].items()
            if dict(labels)["path"] == "/" and dict(labels)["method"] == "GET"}
    assert home["200"] >= 1


def test_each_projection_reports_its_position_lag_and_parked_events(client: TestClient, container: Container) -> None:
    container.accounts.sign_up(unique(), "Metric Person", f"{unique()}@example.org", PASSWORD)
    head = container.log_position()
    assert container.wait_for(head)
    samples = scrape(client)
    names = {p.name for p in PROJECTIONS}
    assert samples["cookout_log_position"][()] >= head
    for metric in ("cookout_projection_events_total", "cookout_projection_lag_events",
                   "cookout_projection_parked_events", "cookout_projection_running"):
        assert {dict(labels)["projection"] for labels in samples[metric]} == names, metric
    assert samples["cookout_projection_events_total"][(("projection", "welcomes"),)] >= head
    assert samples["cookout_projection_parked_events"][(("projection", "welcomes"),)] == 0
    assert samples["cookout_projection_running"][(("projection", "welcomes"),)] == 1


def test_letters_are_counted_by_status_with_the_age_of_the_oldest_pending_one(
    client: TestClient, container: Container,
) -> None:
    container.accounts.sign_up(unique(), "Letter Person", f"{unique()}@example.org", PASSWORD)
    assert container.wait_for(container.log_position(), (Welcomes,))
    samples = scrape(client)
    letters = {dict(labels)["status"]: value for labels, value in samples["cookout_letters"].items()}
    assert {"pending", "sent", "failed", "withdrawn"} <= set(letters)
    assert letters["pending"] >= 1  # no worker runs in this test: the welcome waits
    assert samples["cookout_oldest_pending_letter_age_seconds"][()] > 0
    assert "cookout_letters_retrying" in samples


def test_calendar_answers_are_counted_by_outcome_and_reason(client: TestClient, container: Container) -> None:
    def refused() -> float:
        counts = scrape(client).get("cookout_inbound_replies_total", {})
        return counts.get((("reason", "no-token"), ("status", "refused")), 0)

    before = refused()
    message = EmailMessage()
    message["Message-ID"] = f"<{unique()}@example.org>"
    message.add_attachment(
        "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:nothing-of-ours\r\n"
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:someone@example.org\r\nORGANIZER:mailto:someone@example.org\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n", subtype="calendar",
    )
    assert receive(container, message, ["someone@example.org"]).reason == "no-token"
    assert refused() == before + 1
