"""Provisioning in the admin: a device's secret is shown once, when it is made, never again."""

from __future__ import annotations

import pytest

from webapp.gates.models import Device

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.test", "pw-123456")
    client.force_login(admin)
    return client


def test_the_add_device_action_shows_the_secret_once(admin_client_, gate):
    response = admin_client_.post(
        "/admin/gates/gate/",
        {"action": "add_device", "_selected_action": [gate.pk]},
        follow=True,
    )
    device = Device.objects.get()
    assert device.secret in response.content.decode()
    page = admin_client_.get(f"/admin/gates/device/{device.pk}/change/").content.decode()
    assert device.device_id in page
    assert device.secret not in page


def test_the_revoke_action(admin_client_, gate):
    from webapp.gates import services

    device = services.device_create(gate=gate).device
    admin_client_.post(
        "/admin/gates/device/", {"action": "revoke", "_selected_action": [device.pk]}
    )
    device.refresh_from_db()
    assert device.is_active is False


@pytest.mark.parametrize(
    "model",
    [
        "gate",
        "device",
        "accessentry",
        "blockentry",
        "passage",
        "devicerequest",
        "site",
        "gateauditentry",
        "gatecommand",
    ],
)
def test_admin_lists_load(admin_client_, gate, model):
    assert admin_client_.get(f"/admin/gates/{model}/").status_code == 200
