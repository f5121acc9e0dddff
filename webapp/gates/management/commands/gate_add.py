from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from webapp.gates import services
from webapp.gates.models import Direction


class Command(BaseCommand):
    help = "Create a parking gate (safe to re-run)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--site", default="", help="The site the gate belongs to.")
        parser.add_argument(
            "--direction",
            choices=Direction.values,
            default=None,
            help="entry or exit: the gate records its site's visits (default: both, none).",
        )

    def handle(self, *args: object, **options: object) -> None:
        gate = services.gate_create(
            name=str(options["name"]),
            site=str(options["site"]),
            direction=str(options["direction"]) if options["direction"] else None,
        )
        self.stdout.write(f"gate {gate.name} (id {gate.pk}, {gate.direction})")
