"""With a broker, frames are read on the `gates` queue by a real Celery worker."""

from __future__ import annotations

import os

import pytest

from tests.fixtures.engine_double import DEFAULT_PLATE
from tests.fixtures.gate_engine import frame_jpeg
from webapp.gates import services
from webapp.gates.models import Frame

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_frame_is_read_by_the_gates_worker(celery_worker, post_frame, gate, engine_control):
    # given: the worker's engine double reads DEFAULT_PLATE on every image
    services.access_entry_add(gate=gate, plate=DEFAULT_PLATE)
    # when
    response = post_frame(frame_jpeg(1))
    # then
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["decision"] == "open", celery_worker.log()
    assert answer["plate"] == DEFAULT_PLATE
    assert Frame.objects.get().status == "done"
    calls = (engine_control / "calls").read_text().split()
    assert calls[0] != str(os.getpid())  # read in the worker, not in this process
    assert "webapp.gates.tasks.read_gate_frame" in celery_worker.log()
