"""Rows the gates tests need from other apps."""

from __future__ import annotations

import datetime
import uuid

import factory

from registry.models import ImportRun, RegisterRecord


class ImportRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImportRun

    file_name = "register.csv"
    file_sha256 = factory.Sequence(lambda n: f"{n:064d}")


class RegisterRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RegisterRecord

    plate_latin = "AA1234BB"
    plate = factory.LazyAttribute(lambda r: r.plate_latin)
    d_reg = datetime.date(2024, 5, 1)
    import_run = factory.SubFactory(ImportRunFactory)
    line = factory.Sequence(lambda n: n + 1)
    row_hash = factory.LazyFunction(uuid.uuid4)
