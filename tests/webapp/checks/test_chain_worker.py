"""Upload -> recognition -> cross-check through a real Celery worker, PostgreSQL and Redis."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from registry.services import register_import
from tests.fixtures import images
from tests.fixtures.worker import Worker, wait_for
from webapp.checks.models import Flag
from webapp.listings.services import ListingDeclared, listing_create

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Generous: the worker shares two CPU cores with a training job.
FLAGS_TIMEOUT_S = 90


def test_an_uploaded_photo_ends_in_flags_with_register_evidence(
    celery_worker: Worker, engine_control: Path, samples: Path
) -> None:
    # given the register knows AA1234BB as a white 2018 Toyota Camry
    register_import(path=samples / "register_2024.csv", enqueue_crosscheck=False)
    (engine_control / "plates").write_text("AA1234BB")
    # when a seller lists it as a red Honda
    listing, _ = listing_create(
        marketplace_id="MP-CHAIN-1",
        owner=None,
        declared=ListingDeclared(make="Honda", model="Accord", colour="red", year=2018),
        photos=[io.BytesIO(images.jpeg())],
    )

    # then the worker reads the plate and the cross-check raises flags with evidence
    def flags() -> dict[str, str]:
        return dict(Flag.objects.filter(listing=listing).values_list("kind", "plate_text"))

    try:
        found = wait_for(
            lambda: len(flags()) >= 2 and flags(), timeout=FLAGS_TIMEOUT_S, what="flags"
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}; worker log:\n{celery_worker.log()}") from None
    assert found == {"colour_mismatch": "AA1234BB", "make_mismatch": "AA1234BB"}
    make = Flag.objects.get(listing=listing, kind="make_mismatch")
    assert make.evidence["record"]["plate"] == "АА1234ВВ"
