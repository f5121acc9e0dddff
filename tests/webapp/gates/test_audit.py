"""The gate operators' audit trail: every change to who may pass, who made it, where, and the
values before and after; the page that lists it and its CSV export."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from webapp.gates import services
from webapp.gates.models import AccessEntry, AuditAction, BlockEntry, GateAuditEntry, Visit

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.test", "pw-123456")
    client.force_login(admin)
    return client


def _trail(action: AuditAction) -> list[GateAuditEntry]:
    return list(GateAuditEntry.objects.filter(action=action).order_by("id"))


def test_a_plate_added_and_removed_on_the_page_is_in_the_trail_with_who_and_what(
    operator_client, moderator, gate
):
    operator_client.post(
        f"/gates/{gate.pk}/access/",
        {"plate": "аа 1234 вв", "days": "01234", "hour_from": "08:00", "hour_until": "18:00",
         "note": "cleaner"},
    )  # fmt: skip
    entry = AccessEntry.objects.get(gate=gate)
    [added] = _trail(AuditAction.ACCESS_ADDED)
    assert (added.actor, added.actor_name, added.via) == (moderator, "moderator", "operator page")
    assert (added.gate, added.gate_name, added.site, added.plate) == (
        gate, "north", gate.site, "AA1234BB"
    )  # fmt: skip
    assert added.before == {}
    assert added.after["days"] == "01234"
    assert added.after["hour_from"] == "08:00"
    assert added.after["note"] == "cleaner"

    operator_client.post(f"/gates/{gate.pk}/access/{entry.pk}/delete/")

    assert not AccessEntry.objects.exists()
    [removed] = _trail(AuditAction.ACCESS_REMOVED)
    assert removed.actor == moderator
    assert removed.plate == "AA1234BB"
    assert removed.before == added.after  # what was removed, though the row is gone
    assert removed.after == {}


def test_removing_an_entry_already_gone_records_nothing(operator_client, gate):
    entry = services.access_entry_add(gate=gate, plate="AA1234BB")
    entry.delete()
    operator_client.post(f"/gates/{gate.pk}/access/{entry.pk}/delete/")
    assert _trail(AuditAction.ACCESS_REMOVED) == []


def test_a_csv_import_records_each_plate_and_a_refused_one_records_nothing(
    operator_client, moderator, gate
):
    good = b"plate,note\nAA1234BB,day shift\nKA0101AM,night shift\n"
    operator_client.post(
        f"/gates/{gate.pk}/access/import/", {"file": SimpleUploadedFile("a.csv", good)}
    )
    imported = _trail(AuditAction.ACCESS_ADDED)
    assert [e.plate for e in imported] == ["AA1234BB", "KA0101AM"]
    assert {(e.actor, e.via) for e in imported} == {(moderator, "CSV import")}

    # the second row is refused: the first one's entry goes with its row
    bad = b"plate,note\nBC1111AA,ok\nnot a plate!,bad\n"
    operator_client.post(
        f"/gates/{gate.pk}/access/import/", {"file": SimpleUploadedFile("b.csv", bad)}
    )
    assert not AccessEntry.objects.filter(plate="BC1111AA").exists()
    assert [e.plate for e in _trail(AuditAction.ACCESS_ADDED)] == ["AA1234BB", "KA0101AM"]


def test_admin_changes_are_recorded_with_the_values_before_and_after(admin_client_, gate):
    base = {"name": "north", "site": gate.site_id, "direction": "both", "min_confidence": "0.6",
            "deny_after_frames": "5", "passage_gap_s": "4.0",
            "devices-TOTAL_FORMS": "0", "devices-INITIAL_FORMS": "0"}  # fmt: skip
    response = admin_client_.post(
        f"/admin/gates/gate/{gate.pk}/change/",
        {**base, "open_to_all": "on", "min_confidence": "0.8"},
    )
    assert response.status_code == 302
    [changed] = _trail(AuditAction.GATE_CHANGED)
    assert (changed.actor_name, changed.via, changed.gate) == ("root", "admin", gate)
    assert (changed.before["open_to_all"], changed.after["open_to_all"]) == (False, True)
    assert (changed.before["min_confidence"], changed.after["min_confidence"]) == (0.6, 0.8)
    assert changed.before["direction"] == changed.after["direction"] == "both"

    # saved again unchanged: nothing to record
    admin_client_.post(
        f"/admin/gates/gate/{gate.pk}/change/",
        {**base, "open_to_all": "on", "min_confidence": "0.8"},
    )
    assert len(_trail(AuditAction.GATE_CHANGED)) == 1


def test_block_entries_added_edited_and_bulk_deleted_in_the_admin(admin_client_, gate):
    admin_client_.post("/admin/gates/blockentry/add/", {"plate": "вс 7777 ах", "reason": "stolen"})
    entry = BlockEntry.objects.get()
    [added] = _trail(AuditAction.BLOCK_ADDED)
    assert added.plate == "BC7777AX"
    assert added.after == {"plate": "BC7777AX", "gate": "*", "reason": "stolen"}
    assert added.gate is None  # every gate

    admin_client_.post(
        f"/admin/gates/blockentry/{entry.pk}/change/",
        {"plate": "BC7777AX", "gate": gate.pk, "reason": "stolen, north only"},
    )
    [edited] = _trail(AuditAction.BLOCK_CHANGED)
    assert (edited.before["gate"], edited.after["gate"]) == ("*", "north")
    assert edited.after["reason"] == "stolen, north only"

    other = services.block_entry_add(plate="AA0000AA", reason="test")
    admin_client_.post(
        "/admin/gates/blockentry/",
        {"action": "delete_selected", "_selected_action": [entry.pk, other.pk], "post": "yes"},
    )
    assert not BlockEntry.objects.exists()
    removed = _trail(AuditAction.BLOCK_REMOVED)
    assert sorted(e.plate for e in removed) == ["AA0000AA", "BC7777AX"]
    assert {e.actor_name for e in removed} == {"root"}


def test_commands_name_themselves_and_a_device_secret_is_never_recorded(gate, capsys):
    call_command("gate_device_add", "--gate", "north")
    device_id = capsys.readouterr().out.split("device_id ")[1].split()[0]
    call_command("gate_device_revoke", device_id)
    call_command("gate_device_revoke", device_id)  # already revoked: nothing more

    [added] = _trail(AuditAction.DEVICE_ADDED)
    assert (added.actor, added.via, added.after) == (
        None, "manage.py gate_device_add", {"device": device_id}
    )  # fmt: skip
    [revoked] = _trail(AuditAction.DEVICE_REVOKED)
    assert revoked.via == "manage.py gate_device_revoke"
    secret = gate.devices.get(device_id=device_id).secret
    assert secret not in str(added.after) + str(revoked.before) + str(revoked.after)


def test_a_vehicle_taken_off_site_by_hand_is_in_the_trail(operator_client, moderator, gate):
    visit = Visit.objects.create(
        site=gate.site, plate="AA1234BB", plate_key="AA1234BB", state=Visit.State.INSIDE,
        entered_at=timezone.now(),
    )  # fmt: skip
    operator_client.post(f"/gates/sites/{gate.site_id}/visits/{visit.pk}/close/")
    [closed] = _trail(AuditAction.VISIT_CLOSED)
    assert (closed.actor, closed.site, closed.plate) == (moderator, gate.site, "AA1234BB")
    assert (closed.before["state"], closed.after["state"]) == ("inside", "exit_unseen")


def test_the_trail_keeps_the_gate_and_plate_when_the_gate_is_deleted(gate):
    services.access_entry_add(gate=gate, plate="AA1234BB")
    gate.delete()
    [added] = _trail(AuditAction.ACCESS_ADDED)
    assert (added.gate, added.gate_name, added.plate) == (None, "north", "AA1234BB")


def test_the_page_filters_by_plate_in_either_script_action_and_who(
    operator_client, moderator, outsider, gate
):
    services.access_entry_add(gate=gate, plate="AA1234BB", added_by=moderator)
    services.access_entry_add(gate=gate, plate="KA0101AM", added_by=outsider)
    services.block_entry_add(plate="AA1234BB", reason="unpaid", added_by=moderator)

    page = operator_client.get("/gates/audit/", {"plate": "аа1234вв"}).content.decode()
    assert page.count('class="audit-entry"') == 2
    assert "KA0101AM" not in page

    page = operator_client.get("/gates/audit/", {"action": "block_added"}).content.decode()
    assert page.count('class="audit-entry"') == 1
    assert "unpaid" in page

    page = operator_client.get("/gates/audit/", {"who": outsider.username}).content.decode()
    assert page.count('class="audit-entry"') == 1
    assert "KA0101AM" in page

    assert operator_client.get("/gates/audit/", {"action": "nonsense"}).status_code == 400

    # days: the last one is included, a later first day leaves nothing
    today = timezone.localdate()
    page = operator_client.get("/gates/audit/", {"until": today.isoformat()}).content.decode()
    assert page.count('class="audit-entry"') == 4  # the gate's own entry too
    later = (today + datetime.timedelta(days=1)).isoformat()
    page = operator_client.get("/gates/audit/", {"since": later}).content.decode()
    assert page.count('class="audit-entry"') == 0


def test_the_csv_export_follows_the_filter_and_is_spreadsheet_safe(
    operator_client, django_user_model
):
    formula_gate = services.gate_create(name="=HYPERLINK(1)")
    at_user = django_user_model.objects.create_user("@ops", password="pw-123456")
    services.access_entry_add(gate=formula_gate, plate="AA1234BB", added_by=at_user, note="x")
    services.access_entry_add(gate=formula_gate, plate="KA0101AM", added_by=at_user)

    response = operator_client.get("/gates/audit.csv", {"plate": "AA1234BB"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["when", "who", "via", "action", "gate", "site", "plate", "change"]
    [row] = rows[1:]
    assert row[1:5] == ["'@ops", "code", "access_added", "'=HYPERLINK(1)"]
    assert row[6] == "AA1234BB"
    assert "note:  -> x" in row[7]
    assert operator_client.get("/gates/audit.csv", {"action": "nonsense"}).status_code == 400


def test_only_gate_operators_see_the_trail(client, outsider):
    assert client.get("/gates/audit/").status_code == 302
    client.force_login(outsider)
    assert client.get("/gates/audit/").status_code == 403
    assert client.get("/gates/audit.csv").status_code == 403


def test_the_trail_cannot_be_edited_in_the_admin(admin_client_, gate):
    services.access_entry_add(gate=gate, plate="AA1234BB")
    entry = GateAuditEntry.objects.get(action=AuditAction.ACCESS_ADDED)
    assert admin_client_.get("/admin/gates/gateauditentry/").status_code == 200
    assert admin_client_.post(f"/admin/gates/gateauditentry/{entry.pk}/delete/").status_code == 403
    response = admin_client_.post(
        f"/admin/gates/gateauditentry/{entry.pk}/change/", {"plate": "XX0000XX"}
    )
    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.plate == "AA1234BB"


def test_a_sites_settings_changed_in_the_admin_are_recorded(admin_client_, gate):
    site = gate.site
    response = admin_client_.post(
        f"/admin/gates/site/{site.pk}/change/",
        {"name": site.name, "capacity": "40", "max_stay_hours": "", "close_stays_after_hours": "",
         "anti_passback": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    [changed] = _trail(AuditAction.SITE_CHANGED)
    assert (changed.actor_name, changed.site, changed.gate) == ("root", site, None)
    assert (changed.before["anti_passback"], changed.after["anti_passback"]) == (False, True)
    assert (changed.before["capacity"], changed.after["capacity"]) == (None, 40)
