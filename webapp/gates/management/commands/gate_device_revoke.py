from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from webapp.gates import services
from webapp.gates.models import Device


class Command(BaseCommand):
    help = "Revoke a gate device: its requests are refused from now on."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("device")

    def handle(self, *args: object, **options: object) -> None:
        try:
            device = services.device_revoke(
                device_id=str(options["device"]), via="manage.py gate_device_revoke"
            )
        except Device.DoesNotExist:
            raise CommandError(f"no device {options['device']!r}") from None
        self.stdout.write(
            f"device {device.device_id} revoked at {device.revoked_at:%Y-%m-%d %H:%M:%S}"
        )
