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
        parser.add_argument(
            "--open-to-all",
            action="store_true",
            help="Open for any plate read that is not blocked (an exit, a visitors' entrance).",
        )

    def handle(self, *args: object, **options: object) -> None:
        gate = services.gate_create(
            name=str(options["name"]),
            site=str(options["site"]),
            direction=str(options["direction"]) if options["direction"] else None,
            open_to_all=True if options["open_to_all"] else None,
            via="manage.py gate_add",
        )
        open_to = ", open to all" if gate.open_to_all else ""
        self.stdout.write(f"gate {gate.name} (id {gate.pk}, {gate.direction}{open_to})")
