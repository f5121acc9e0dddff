"""Provisioning by command, and the access list's CSV import and export."""

from __future__ import annotations

import json
from datetime import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from webapp.gates import selectors, services
from webapp.gates.models import AccessEntry, Device, Gate

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_gate_add_then_device_add_writes_a_ready_config(tmp_path):
    assert "gate north" in _run("gate_add", "north", "--site", "HQ")
    config = tmp_path / "pi" / "config.json"
    out = _run("gate_device_add", "--gate", "north", "--config-out", str(config),
               "--server", "http://10.0.0.5:8000")  # fmt: skip
    device = Device.objects.get()
    assert f"device_id {device.device_id}" in out
    assert f"secret {device.secret}" in out
    written = json.loads(config.read_text())
    assert written == {"server": "http://10.0.0.5:8000", "device_id": device.device_id,
                       "secret": device.secret, "gate": "north"}  # fmt: skip
    assert config.stat().st_mode & 0o777 == 0o600
    assert Gate.objects.get().site.name == "HQ"


def test_device_add_for_an_unknown_gate_is_a_clear_error():
    with pytest.raises(CommandError, match="no gate 'nowhere'"):
        _run("gate_device_add", "--gate", "nowhere")


def test_gate_device_revoke(gate):
    device = services.device_create(gate=gate).device
    assert "revoked" in _run("gate_device_revoke", device.device_id)
    device.refresh_from_db()
    assert device.is_active is False
    assert device.revoked_at is not None
    with pytest.raises(CommandError, match="no device"):
        _run("gate_device_revoke", "gd_missing")


def test_gate_allow_with_a_window(gate):
    _run("gate_allow", "--gate", "north", "aa 1234 bb", "--from", "2026-12-01",
         "--until", "2026-12-31", "--days", "0,1,2,3,4", "--hours", "08:00-18:00")  # fmt: skip
    entry = AccessEntry.objects.get()
    assert entry.plate == "AA1234BB"
    assert entry.days == "01234"
    assert (entry.hour_from, entry.hour_until) == (time(8), time(18))
    assert entry.valid_until.day == 31


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--hours", "8-late"], "--hours"), (["--days", "9"], "days"), (["--from", "soon"], "--from")],
)
def test_gate_allow_refuses_bad_windows(gate, args, message):
    with pytest.raises(CommandError, match=message):
        _run("gate_allow", "--gate", "north", "AA1234BB", *args)
    assert AccessEntry.objects.count() == 0


def test_csv_export_then_import_round_trips(gate):
    services.access_entry_add(gate=gate, plate="AA1234BB", days="01234",
                              hour_from=time(8), hour_until=time(18), note="staff")  # fmt: skip
    services.access_entry_add(gate=gate, plate="KA0101AM")
    exported = selectors.access_csv_export(gate=gate)
    other = services.gate_create(name="south")
    assert services.access_csv_import(gate=other, data=exported) == 2
    assert selectors.access_csv_export(gate=other) == exported


def test_a_bad_csv_row_imports_nothing(gate):
    data = "plate,days\nAA1234BB,01234\nKA0101AM,weekends\n"
    with pytest.raises(ValueError, match="line 3"):
        services.access_csv_import(gate=gate, data=data)
    assert AccessEntry.objects.count() == 0


def test_the_demo_gate_is_made_once_with_a_working_config(tmp_path):
    config = tmp_path / "gate-demo.json"
    _run("gate_demo", "--config-out", str(config))
    _run("gate_demo", "--config-out", str(config))
    gate = Gate.objects.get(name="demo-gate")
    assert Device.objects.filter(gate=gate).count() == 1
    device = Device.objects.get(gate=gate)
    assert json.loads(config.read_text())["secret"] == device.secret
    assert sorted(gate.access_entries.values_list("plate", flat=True)) == [
        "AA1234BB", "AE2020OP", "KA0101AM",
    ]  # fmt: skip
