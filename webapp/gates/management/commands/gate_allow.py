from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.dateparse import parse_datetime, parse_time

from webapp.gates import services
from webapp.gates.models import Gate
from webapp.gates.services import datetime_from_text, time_from_text


class Command(BaseCommand):
    help = "Allow a plate through a gate, optionally only in a window."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("plate")
        parser.add_argument("--gate", required=True)
        parser.add_argument("--from", dest="valid_from", default="", help="YYYY-MM-DD[ HH:MM]")
        parser.add_argument("--until", dest="valid_until", default="", help="YYYY-MM-DD[ HH:MM]")
        parser.add_argument("--days", default="", help="Weekday digits, Monday=0: 01234")
        parser.add_argument("--hours", default="", help="HH:MM-HH:MM, e.g. 08:00-18:00")
        parser.add_argument("--note", default="")

    def handle(self, *args: object, **options: object) -> None:
        gate = Gate.objects.filter(name=options["gate"]).first()
        if gate is None:
            raise CommandError(f"no gate {options['gate']!r}; create it with gate_add")
        hours = str(options["hours"])
        start, _, end = hours.partition("-")
        if hours and not (parse_time(start) and parse_time(end)):
            raise CommandError(f"--hours must be HH:MM-HH:MM, got {hours!r}")
        try:
            entry = services.access_entry_add(
                gate=gate,
                plate=str(options["plate"]),
                valid_from=datetime_from_text(_day(str(options["valid_from"])), "--from"),
                valid_until=datetime_from_text(
                    _day(str(options["valid_until"]), end=True), "--until"
                ),
                days=str(options["days"]),
                hour_from=time_from_text(start, "--hours"),
                hour_until=time_from_text(end, "--hours"),
                note=str(options["note"]),
                via="manage.py gate_allow",
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{entry.plate} allowed at {gate.name} (entry {entry.pk})")


def _day(text: str, *, end: bool = False) -> str:
    # A bare date means the whole day: from its start, or until its last second.
    if text and parse_datetime(text) is None and len(text) == 10:
        return f"{text} 23:59:59" if end else f"{text} 00:00"
    return text
