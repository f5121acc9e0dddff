from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from webapp.checks import services


class Command(BaseCommand):
    help = (
        "Ask again for the cross-check of existing listings, through the outbox: safe on a live "
        "system (the workers take them as they come; the sweeper resends what the broker lost) "
        "and to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--deregistered",
            action="store_true",
            help="Listings whose read plate, declared plate or declared VIN has a removal from "
            "the register (ЗНЯТТЯ З ОБЛІКУ) as its current record.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Count them; ask for nothing.")
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["deregistered"]:
            raise CommandError("which listings? --deregistered (a plate or VIN off the register)")
        result = services.listings_recheck_deregistered(
            dry_run=options["dry_run"],
            progress=not options["no_progress"] and options["verbosity"] > 0,
        )
        done = "(dry run: nothing asked)" if options["dry_run"] else "asked for a cross-check"
        self.stdout.write(
            f"{result.scanned:,} listings scanned, {result.found:,} with a deregistered plate "
            f"or VIN {done}"
        )
