from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from webapp.partners.tokens import partner_add


class Command(BaseCommand):
    help = "Create a partner account and print its first API token (shown only once)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="the partner's user name")
        parser.add_argument("--email", default="", help="where webhook warnings go")

    def handle(self, *args, name: str, email: str, **options) -> None:
        try:
            user, issued = partner_add(username=name, email=email)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"partner {user.username} created; token (shown only once):")
        self.stdout.write(issued.key)
