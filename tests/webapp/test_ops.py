"""Operators' endpoints: /healthz against the real Redis, broker and a real worker, /metrics
access rules and figures, the model-versions page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from recognition import services
from tests.fixtures.factories import PhotoFactory, PhotoReadFactory, ReadingFactory, UserFactory
from webapp.gates import services as gate_services
from webapp.gates.models import Device, Passage
from webapp.ops import health
from webapp.partners.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


def test_healthz_fails_with_503_and_says_which_check(client, settings, tmp_path):
    settings.PLATECHECK_MODELS_DIR = str(tmp_path)  # no manifests there
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["engine"]["status"] == "fail"
    assert "No such file" in body["checks"]["engine"]["detail"]
    assert body["checks"]["database"]["status"] == "ok"


def test_healthz_checks_a_broken_broker_and_redis(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6399/0"  # nothing listens there
    settings.HEALTH_REDIS_URL = ""
    body = client.get("/healthz").json()
    assert body["checks"]["redis"]["status"] == "fail"
    assert body["checks"]["broker"]["status"] == "fail"


def test_metrics_are_refused_to_strangers(client, outsider, settings):
    settings.METRICS_ALLOWED_ADDRESSES = ["10.0.0.5"]
    assert client.get("/metrics").status_code == 403
    client.force_login(outsider)
    assert client.get("/metrics").status_code == 403
    scraper = Client(REMOTE_ADDR="10.0.0.5")
    assert scraper.get("/metrics").status_code == 200


def test_metrics_carry_the_platecheck_figures(client, moderator, settings):
    settings.METRICS_ALLOWED_ADDRESSES = []
    PhotoFactory(status="failed")
    PhotoFactory(status="done", plate_areas=None)  # read before its areas were kept
    ReadingFactory(timings={"detect_ms": 100.0, "rectify_ms": 5.0, "read_ms": 20.0})
    ReadingFactory(timings={"detect_ms": 300.0, "rectify_ms": 5.0, "read_ms": 40.0})
    client.force_login(moderator)
    text = client.get("/metrics").content.decode()
    assert 'platecheck_photos{status="failed"} 1.0' in text
    assert "platecheck_photos_areas_unknown 1.0" in text
    assert 'platecheck_recognition_latency_seconds{quantile="0.5",stage="detect"}' in text
    assert "django_http_requests_latency_seconds_by_view_method" in text
    assert 'platecheck_metrics_errors{part="photos"} 0.0' in text


def test_metrics_count_cross_checks_due_and_given_up(client, moderator, settings):
    from recognition.models import CrosscheckRequest
    from recognition.services import crosscheck_requests_create

    settings.METRICS_ALLOWED_ADDRESSES = []
    due, given_up = PhotoFactory(), PhotoFactory()
    crosscheck_requests_create(listing_ids=[due.listing_id, given_up.listing_id])
    CrosscheckRequest.objects.filter(listing_id=given_up.listing_id).update(
        failures=settings.CROSSCHECK_MAX_FAILURES
    )
    client.force_login(moderator)
    text = client.get("/metrics").content.decode()
    assert 'platecheck_crosschecks_due{state="due"} 1.0' in text
    assert 'platecheck_crosschecks_due{state="given_up"} 1.0' in text


def test_a_reading_without_every_stage_keeps_the_latency_figures(client, moderator, settings):
    # given: two readings of today's engine and one of a version that timed only detection
    settings.METRICS_ALLOWED_ADDRESSES = []
    ReadingFactory(timings={"detect_ms": 100.0, "rectify_ms": 5.0, "read_ms": 20.0})
    ReadingFactory(timings={"detect_ms": 300.0, "rectify_ms": 5.0, "read_ms": 40.0})
    ReadingFactory(timings={"detect_ms": 200.0})
    client.force_login(moderator)
    # when
    text = client.get("/metrics").content.decode()
    # then
    assert 'platecheck_metrics_errors{part="recognition"} 0.0' in text
    assert 'platecheck_recognition_latency_seconds{quantile="0.5",stage="detect"} 0.2' in text
    assert 'platecheck_recognition_latency_seconds{quantile="0.5",stage="read"}' in text


def test_the_second_look_has_its_own_latency_and_counts_in_the_total(client, moderator, settings):
    # given: two photos read on the first look and two looked at again (a second detection)
    settings.METRICS_ALLOWED_ADDRESSES = []
    for detect in (100.0, 100.0):
        ReadingFactory(timings={"detect_ms": detect, "rectify_ms": 0.0, "read_ms": 0.0})
    for again in (300.0, 500.0):
        ReadingFactory(
            timings={"detect_ms": 100.0, "rectify_ms": 0.0, "read_ms": 0.0, "second_look_ms": again}
        )
    client.force_login(moderator)
    # when
    text = client.get("/metrics").content.decode()
    # then: the second look's median is over the photos that had one; the total includes it
    assert 'platecheck_recognition_latency_seconds{quantile="0.5",stage="second_look"} 0.4' in text
    assert 'platecheck_recognition_latency_seconds{quantile="0.5",stage="total"} 0.25' in text
    # and in buckets: totals 0.1, 0.1, 0.4, 0.6 s
    hist = "platecheck_recognition_latency_hour_seconds"
    assert f'{hist}_bucket{{le="0.1",stage="total"}} 2.0' in text
    assert f'{hist}_bucket{{le="0.5",stage="total"}} 3.0' in text
    assert f'{hist}_bucket{{le="+Inf",stage="total"}} 4.0' in text
    assert f'{hist}_gcount{{stage="total"}} 4.0' in text
    assert f'{hist}_bucket{{le="0.25",stage="second_look"}} 0.0' in text


def test_the_zoomed_out_look_has_its_own_latency_and_counts_in_the_total(
    client, moderator, settings
):
    settings.METRICS_ALLOWED_ADDRESSES = []
    looks = {"detect_ms": 100.0, "rectify_ms": 0.0, "read_ms": 0.0, "second_look_ms": 100.0}
    for zoom in (100.0, 300.0):
        ReadingFactory(timings={**looks, "zoom_out_ms": zoom})
    client.force_login(moderator)
    text = client.get("/metrics").content.decode()
    assert 'platecheck_recognition_latency_seconds{quantile="0.5",stage="zoom_out"} 0.2' in text
    assert 'platecheck_recognition_latency_seconds{quantile="0.5",stage="total"} 0.4' in text


def test_gate_and_webhook_figures(client, moderator, settings):
    # given: a gate that opened twice and denied once in the last hour, one passage of
    # yesterday, a camera silent for ten minutes, and webhook deliveries in every state
    settings.METRICS_ALLOWED_ADDRESSES = []
    now = timezone.now()
    gate = gate_services.gate_create(name="north")
    device = gate_services.device_create(gate=gate).device
    Device.objects.filter(pk=device.pk).update(last_seen_at=now - timedelta(minutes=10))
    for decision, decide_ms, at in [
        ("open", 200.0, now),
        ("open", 400.0, now),
        ("deny", 600.0, now),
        ("open", 9000.0, now - timedelta(days=1)),  # outside the hour
    ]:
        Passage.objects.create(
            gate=gate, device=device, started_at=at, last_frame_at=at, voted_plate="AA1234BB",
            decision=decision, decide_ms=decide_ms,
        )  # fmt: skip
    owner = UserFactory()
    endpoint = WebhookEndpoint.objects.create(owner=owner, url="http://127.0.0.1:9/h",
                                              events=["flag.decided"], secret="s" * 32)  # fmt: skip
    WebhookEndpoint.objects.create(owner=owner, url="http://127.0.0.1:9/off", secret="s" * 32,
                                   events=["flag.decided"], is_active=False)  # fmt: skip
    for n, (status, age) in enumerate([("pending", 120), ("pending", 30), ("delivered", 0)]):
        WebhookDelivery.objects.create(endpoint=endpoint, event="flag.decided", payload={},
                                       message_id=f"msg_{n}", status=status,
                                       created_at=now - timedelta(seconds=age))  # fmt: skip
    client.force_login(moderator)
    # when
    text = client.get("/metrics").content.decode()
    # then
    assert 'platecheck_gate_passages{decision="open",gate="north"} 2.0' in text
    assert 'platecheck_gate_passages{decision="deny",gate="north"} 1.0' in text
    assert 'platecheck_gate_decision_seconds{quantile="0.5"} 0.4' in text
    camera = f'{{device="{device.device_id}",gate="north"}}'
    silent = _sample(text, "platecheck_gate_device_silent_seconds" + camera)
    assert 600 <= silent < 660
    assert 'platecheck_webhook_deliveries{status="pending"} 2.0' in text
    assert 'platecheck_webhook_deliveries{status="delivered"} 1.0' in text
    assert 'platecheck_webhook_deliveries{status="failed"} 0.0' in text
    assert 120 <= _sample(text, "platecheck_webhook_oldest_pending_seconds") < 180
    assert "platecheck_webhook_endpoints_disabled 1.0" in text
    assert 'platecheck_metrics_errors{part="gates"} 0.0' in text
    assert 'platecheck_metrics_errors{part="webhooks"} 0.0' in text


def test_the_oldest_waiting_webhook_ignores_disabled_endpoints(client, moderator, settings):
    # given: a disabled endpoint's delivery waiting for a day (it waits until the partner enables
    # the endpoint again) and an active endpoint's delivery waiting for a minute
    settings.METRICS_ALLOWED_ADDRESSES = []
    now = timezone.now()
    owner = UserFactory()
    active = WebhookEndpoint.objects.create(owner=owner, url="http://127.0.0.1:9/h",
                                            events=["flag.decided"], secret="s" * 32)  # fmt: skip
    disabled = WebhookEndpoint.objects.create(owner=owner, url="http://127.0.0.1:9/off",
                                              events=["flag.decided"], secret="s" * 32,
                                              is_active=False)  # fmt: skip
    for endpoint, age in [(disabled, 24 * 3600), (active, 60)]:
        WebhookDelivery.objects.create(endpoint=endpoint, event="flag.decided", payload={},
                                       message_id=f"msg_{endpoint.pk}",
                                       created_at=now - timedelta(seconds=age))  # fmt: skip
    client.force_login(moderator)
    # when
    text = client.get("/metrics").content.decode()
    # then: only the active endpoint's delivery counts
    assert 60 <= _sample(text, "platecheck_webhook_oldest_pending_seconds") < 120
    # and nothing waits once that one is delivered
    WebhookDelivery.objects.filter(endpoint=active).update(status="delivered")
    text = client.get("/metrics").content.decode()
    assert _sample(text, "platecheck_webhook_oldest_pending_seconds") == 0.0


def _sample(text: str, name: str) -> float:
    line = next(row for row in text.splitlines() if row.startswith(name + " "))
    return float(line.rsplit(" ", 1)[1])


def test_the_model_versions_page_counts_photos_per_version(moderator):
    version = health.installed_engine_version() + "+rapidocr"
    ReadingFactory(model_version=version)
    ReadingFactory(model_version="det-old+ocr-old")
    client = Client()
    client.force_login(moderator)
    page = client.get("/ops/models/")
    rows = {v.version: v for v in page.context["page"].versions}
    assert rows[version].deployed
    assert rows[version].photos == 1
    assert not rows["det-old+ocr-old"].deployed
    names = {c.name: c for c in page.context["page"].components}
    assert set(names) == {"detector", "ocr"}
    assert names["detector"].metrics
    assert "Model card" in page.content.decode()


def test_the_model_versions_page_is_for_staff(outsider):
    client = Client()
    client.force_login(outsider)
    assert client.get("/ops/models/").status_code == 302  # to the admin login


def test_the_compare_page_sets_the_latest_version_against_the_one_before(moderator):
    # given a photo both versions read, the newer reading it otherwise
    photo = PhotoFactory()
    PhotoReadFactory(photo=photo, model_version="det-a", read_at=timezone.now() - timedelta(1))
    PhotoReadFactory(photo=photo, model_version="det-b")
    old = ReadingFactory(photo=photo, model_version="det-a", plate_text="AA1234BB")
    new = ReadingFactory(photo=photo, model_version="det-b", plate_text="AA1234BE")
    client = Client()
    client.force_login(moderator)
    # when the page is opened without a choice
    page = client.get("/ops/models/compare/")
    # then the newer is compared with the older, and the plate read otherwise is shown
    comparison = page.context["comparison"]
    assert (comparison.base, comparison.candidate, comparison.changed) == ("det-a", "det-b", 1)
    body = page.content.decode()
    assert f"/review/readings/{old.pk}/plate.png" in body
    assert f"/review/readings/{new.pk}/plate.png" in body
    assert 'data-kind="changed"' in body
    assert '<option value="det-b" selected>' in body
    # and the other way round when asked, a version left out being the latest other one
    swapped = client.get("/ops/models/compare/?base=det-b&candidate=det-a")
    assert swapped.context["comparison"].base == "det-b"
    only = client.get("/ops/models/compare/?candidate=det-a").context["comparison"]
    assert (only.base, only.candidate) == ("det-b", "det-a")
    only = client.get("/ops/models/compare/?base=det-b").context["comparison"]
    assert (only.base, only.candidate) == ("det-b", "det-a")
    assert "/ops/models/compare/" in client.get("/ops/models/").content.decode()


def test_the_compare_page_refuses_one_version_twice_and_unknown_ones(moderator):
    PhotoReadFactory(model_version="det-a")
    PhotoReadFactory(model_version="det-b")
    client = Client()
    client.force_login(moderator)
    same = client.get("/ops/models/compare/?base=det-a&candidate=det-a")
    assert same.context["comparison"] is None
    assert "Pick two different versions." in same.content.decode()
    unknown = client.get("/ops/models/compare/?base=det-a&candidate=nope")
    assert unknown.context["comparison"] is None
    assert unknown.context["form"].errors["candidate"]


def test_the_compare_page_with_one_version_says_there_is_nothing_to_compare(moderator):
    PhotoReadFactory(model_version="det-a")
    client = Client()
    client.force_login(moderator)
    page = client.get("/ops/models/compare/")
    assert page.context["comparison"] is None
    assert 'id="too-few-versions"' in page.content.decode()


def test_the_compare_page_is_for_staff(outsider):
    client = Client()
    client.force_login(outsider)
    assert client.get("/ops/models/compare/").status_code == 302  # to the admin login


def test_the_corrections_page_shows_what_moderators_typed_over_each_version(moderator):
    # given a reading a moderator corrected, linked from the model versions page
    photo = PhotoFactory()
    PhotoReadFactory(photo=photo, model_version="det-a")
    read = ReadingFactory(photo=photo, model_version="det-a", plate_text="AA1234B8")
    typed = services.reading_create_human(
        photo_id=photo.pk, plate_text="AA1234BB", user=moderator, base_reading_id=read.pk
    )
    client = Client()
    client.force_login(moderator)
    assert 'href="/ops/models/corrections/"' in client.get("/ops/models/").content.decode()
    # when the page is opened
    page = client.get("/ops/models/corrections/")
    # then the version's row counts the correction and names the characters it read otherwise
    (version,) = page.context["summary"].versions
    assert (version.version, version.corrections, version.per_thousand) == ("det-a", 1, 1000.0)
    body = page.content.decode()
    assert 'data-version="det-a"' in body
    assert '<span class="plate">8→B</span> 1' in body
    # and the correction is listed with the crop the engine read
    assert f"/review/readings/{typed.pk}/plate.png" in body
    assert 'data-kind="misread"' in body


def test_the_corrections_page_says_when_there_are_none_and_is_for_staff(moderator, outsider):
    client = Client()
    client.force_login(moderator)
    assert 'id="no-corrections"' in client.get("/ops/models/corrections/").content.decode()
    client.force_login(outsider)
    assert client.get("/ops/models/corrections/").status_code == 302  # to the admin login


@pytest.mark.integration
def test_healthz_is_green_with_a_real_broker_and_worker(celery_worker, client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = celery_worker.env["CELERY_BROKER_URL"]
    body = client.get("/healthz").json()
    assert body["status"] == "ok", body
    assert body["checks"]["redis"]["status"] == "ok"
    assert body["checks"]["broker"]["status"] == "ok"
    assert body["checks"]["worker"]["detail"].startswith("1 worker(s)")


@pytest.mark.integration
def test_healthz_fails_when_the_worker_is_gone(celery_worker, client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = celery_worker.env["CELERY_BROKER_URL"]
    celery_worker.stop()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert (
        response.json()["checks"]["worker"]["detail"] == "RuntimeError: no worker answered a ping"
    )


def test_metrics_under_several_gunicorn_processes_still_carry_platecheck_figures(
    monkeypatch, tmp_path
):
    from webapp.ops.metrics import exposition

    PhotoFactory(status="done")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    body, content_type = exposition()
    assert content_type.startswith("text/plain")
    assert 'platecheck_photos{status="done"} 1.0' in body.decode()
