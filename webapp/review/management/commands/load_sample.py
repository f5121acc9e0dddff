"""The demo in one command; it lives with the review pages because it seeds every layer below
them (register, listings through the chain, a moderator login)."""

from __future__ import annotations

import logging
import secrets
from collections import Counter
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from registry.models import WatchEntry
from registry.watchlist import watch_entry_add
from webapp.listings.models import Photo
from webapp.review.models import MODERATORS_GROUP

logger = logging.getLogger(__name__)

SAMPLE_LISTINGS = settings.BASE_DIR / "webapp" / "listings" / "sample_data"
SAMPLE_REGISTER = settings.BASE_DIR / "registry" / "sample_data" / "register_demo.csv"
DEMO_WATCHED = "BC7777AX"  # DEMO-005's plate (webapp/listings/sample_data/README.md)


class Command(BaseCommand):
    help = (
        "Load the demo: the sample register, a watch-list entry, the sample listings, and a "
        "moderator login."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--moderator", default="moderator", help="Username to create.")
        parser.add_argument(
            "--login-file",
            type=Path,
            default=settings.BASE_DIR / "var" / "demo-login.txt",
            help="Where the moderator's password is kept between runs.",
        )

    def handle(self, *args: object, **options: object) -> None:
        self._register()
        self._watch_list()
        self._listings()
        username, password = self._moderator(str(options["moderator"]), Path(options["login_file"]))
        self.stdout.write(self.style.SUCCESS(f"moderator login: {username} / {password}"))

    def _register(self) -> None:
        if not SAMPLE_REGISTER.is_file():
            self.stdout.write(self.style.WARNING(f"skipped: no sample register {SAMPLE_REGISTER}"))
        else:
            call_command("import_register", str(SAMPLE_REGISTER), stdout=self.stdout)

    def _watch_list(self) -> None:
        """A plate the register knows as a consistent car, reported stolen: only the watch list
        catches its listing (the gate demo block-lists the same plate)."""
        if not WatchEntry.objects.filter(plate=DEMO_WATCHED).exists():
            watch_entry_add(plate=DEMO_WATCHED, source="demo: a police notice")
            self.stdout.write(f"watch list: {DEMO_WATCHED} reported stolen")

    def _listings(self) -> None:
        if not SAMPLE_LISTINGS.is_dir():
            self.stdout.write(self.style.WARNING(f"skipped: no sample listings {SAMPLE_LISTINGS}"))
            return
        call_command("ingest_listings", str(SAMPLE_LISTINGS), stdout=self.stdout)
        statuses = Counter(Photo.objects.values_list("status", flat=True))
        self.stdout.write(f"photos by status: {dict(statuses)}")
        failed = Photo.objects.filter(status=Photo.Status.FAILED).first()
        if failed is not None:
            self.stdout.write(self.style.WARNING(f"e.g. photo {failed.pk}: {failed.last_error}"))

    def _moderator(self, username: str, login_file: Path) -> tuple[str, str]:
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=username, defaults={"is_staff": True}
        )
        if created or not login_file.is_file():
            password = secrets.token_urlsafe(9)
            user.set_password(password)
            user.is_staff = True
            user.save()
            login_file.parent.mkdir(parents=True, exist_ok=True)
            login_file.write_text(f"{username}\n{password}\n")
            login_file.chmod(0o600)
        password = login_file.read_text().split()[1]
        user.groups.add(Group.objects.get_or_create(name=MODERATORS_GROUP)[0])
        return username, password
