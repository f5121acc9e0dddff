"""Factories for rows the review tests need beyond tests/fixtures/factories.py."""

from __future__ import annotations

import datetime as dt
import uuid

import factory

from registry.models import ImportRun, RegisterRecord


class ImportRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImportRun

    file_name = "reestr.csv"
    file_sha256 = factory.Sequence(lambda n: f"{n:064x}")
    status = ImportRun.Status.DONE


class RegisterRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RegisterRecord

    plate = "АА1234ВВ"
    plate_latin = "AA1234BB"
    brand = "TOYOTA"
    model = "CAMRY"
    colour = "СІРИЙ"
    kind = "ЛЕГКОВИЙ"
    make_year = 2018
    d_reg = dt.date(2023, 3, 14)
    oper_name = "ПЕРЕРЕЄСТРАЦІЯ НА НОВОГО ВЛАСНИКА"
    import_run = factory.SubFactory(ImportRunFactory)
    line = factory.Sequence(lambda n: n + 2)
    row_hash = factory.LazyFunction(uuid.uuid4)
