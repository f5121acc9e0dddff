from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_queue_detail_dashboard_render_for_a_moderator(mod_client, flagged_listing):
    flag = flagged_listing["flag"]

    queue = mod_client.get(reverse("review:queue"))
    detail = mod_client.get(reverse("review:flag", args=[flag.pk]))
    dashboard = mod_client.get(reverse("review:dashboard"))

    assert queue.status_code == 200
    assert b"AA1234B8" in queue.content
    assert detail.status_code == 200
    assert b"<polygon" in detail.content
    assert dashboard.status_code == 200
    assert b"<svg" in dashboard.content
