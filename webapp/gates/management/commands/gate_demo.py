from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from webapp.gates import services
from webapp.gates.models import AccessEntry, BlockEntry, Device, Direction, Site

DEMO_GATE = "demo-gate"
# Some of the sample photos' plates (webapp/listings/sample_data/photos): the others are denied.
DEMO_ALLOWED = ("AA1234BB", "AE2020OP", "KA0101AM")
DEMO_BLOCKED = "BC7777AX"
DEMO_SITE = "Demo site"
DEMO_SPACES = 40
DEMO_MAX_STAY_HOURS = 12
VIA = "manage.py gate_demo"


class Command(BaseCommand):
    help = "Demo: one gate, one device (config written for deploy/pi), an access list."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--config-out", type=Path, default=settings.BASE_DIR / "var" / "gate-demo.json"
        )

    def handle(self, *args: object, **options: object) -> None:
        config = Path(str(options["config_out"]))
        # The demo's camera watches the car park's way in: each car it opens for is on site
        # until an exit gate sees it (/gates/sites/).
        gate = services.gate_create(
            name=DEMO_GATE, site=DEMO_SITE, direction=Direction.ENTRY, via=VIA
        )
        Site.objects.filter(pk=gate.site_id, capacity=None).update(
            capacity=DEMO_SPACES, max_stay_hours=DEMO_MAX_STAY_HOURS
        )
        device_id = _config_device(config)
        if not Device.objects.filter(device_id=device_id, gate=gate, is_active=True).exists():
            # The secret is only known when the device is made: make it with its config file.
            call_command(
                "gate_device_add", "--gate", DEMO_GATE, "--config-out", str(config),
                "--server", "http://127.0.0.1:8000", stdout=self.stdout,
            )  # fmt: skip
        for plate in DEMO_ALLOWED:
            if not AccessEntry.objects.filter(gate=gate, plate=plate).exists():
                services.access_entry_add(gate=gate, plate=plate, note="demo", via=VIA)
        if not BlockEntry.objects.filter(plate=DEMO_BLOCKED).exists():
            services.block_entry_add(plate=DEMO_BLOCKED, reason="demo: reported stolen", via=VIA)
        self.stdout.write(
            f"gate {DEMO_GATE}: allowed {', '.join(DEMO_ALLOWED)}; blocked {DEMO_BLOCKED}; "
            f"device config {config}"
        )


def _config_device(path: Path) -> str:
    try:
        return str(json.loads(path.read_text())["device_id"])
    except (OSError, ValueError, KeyError):
        return ""
