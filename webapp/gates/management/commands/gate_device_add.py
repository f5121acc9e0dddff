from __future__ import annotations

import json
import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from webapp.gates import services
from webapp.gates.models import Gate


class Command(BaseCommand):
    help = "Register a Raspberry Pi for a gate; prints its id and secret (shown only this once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--gate", required=True)
        parser.add_argument(
            "--config-out", type=Path, help="Write a ready config.json for deploy/pi here."
        )
        parser.add_argument(
            "--server", default="http://127.0.0.1:8000", help="The server URL for the config."
        )

    def handle(self, *args: object, **options: object) -> None:
        gate = Gate.objects.filter(name=options["gate"]).first()
        if gate is None:
            raise CommandError(f"no gate {options['gate']!r}; create it with gate_add")
        new = services.device_create(gate=gate, via="manage.py gate_device_add")
        self.stdout.write(f"device_id {new.device.device_id}")
        self.stdout.write(f"secret {new.secret}")
        out = options.get("config_out")
        if out:
            path = Path(str(out))
            config = {
                "server": options["server"],
                "device_id": new.device.device_id,
                "secret": new.secret,
                "gate": gate.name,
            }
            path.parent.mkdir(parents=True, exist_ok=True)
            # The secret is in this file: readable by its owner only.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump(config, handle, indent=2)
            self.stdout.write(f"config written to {path}")
