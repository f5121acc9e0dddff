from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.models import WatchEntry
from registry.watchlist import WatchEntryInvalid, watch_entries_delete, watch_entry_add


class Command(BaseCommand):
    help = (
        "The watch list of plates and VINs (cars reported stolen, used in a fraud): every listing "
        "whose photos show one, or that declares one, is flagged. `add` and `remove` have those "
        "listings re-checked; `list` prints the entries."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add", help="Watch a plate, a VIN or both (one car).")
        add.add_argument("--plate", default="", help="Any spelling: Latin or Cyrillic, spaces.")
        add.add_argument("--vin", default="")
        add.add_argument("--reason", choices=WatchEntry.Reason.values, default="stolen")
        add.add_argument("--source", default="", help="Who reported it.")
        add.add_argument("--note", default="")
        remove = actions.add_parser("remove", help="Stop watching: entries by id.")
        remove.add_argument("ids", nargs="+", type=int)
        actions.add_parser("list", help="Print every entry.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "add":
            try:
                entry = watch_entry_add(
                    plate=options["plate"], vin=options["vin"], reason=options["reason"],
                    source=options["source"], note=options["note"],
                )  # fmt: skip
            except WatchEntryInvalid as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"watch entry {entry.pk}: {entry}")
        elif action == "remove":
            known = set(
                WatchEntry.objects.filter(pk__in=options["ids"]).values_list("pk", flat=True)
            )
            unknown = sorted(set(options["ids"]) - known)
            if unknown:
                raise CommandError(
                    f"no watch entry {', '.join(map(str, unknown))}: nothing removed"
                )
            self.stdout.write(f"{watch_entries_delete(entry_ids=known)} watch entries removed")
        else:
            for e in WatchEntry.objects.all():
                self.stdout.write(
                    f"{e.pk}\t{e.plate or '-'}\t{e.vin or '-'}\t{e.reason}\t"
                    f"{e.added_at:%Y-%m-%d}\t{e.source}"
                )
