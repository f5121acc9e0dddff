from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from webapp.partners.models import ALL_SCOPES, PartnerToken
from webapp.partners.tokens import token_create, token_list_for, token_revoke


class Command(BaseCommand):
    help = "Create, list or revoke a partner's API tokens."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="make a token and print its key once")
        create.add_argument("username")
        create.add_argument("--name", default="token")
        create.add_argument("--scopes", default=",".join(ALL_SCOPES), help="comma-separated")
        create.add_argument("--days", type=int, default=None)
        listing = sub.add_parser("list", help="a partner's tokens (never their keys)")
        listing.add_argument("username")
        revoke = sub.add_parser("revoke", help="stop a token at once")
        revoke.add_argument("prefix", help="the token's prefix, as `list` shows it")

    def handle(self, *args, action: str, **options) -> None:
        getattr(self, f"_{action}")(**options)

    def _user(self, username: str):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}")
        return user

    def _create(self, *, username: str, name: str, scopes: str, days: int | None, **_) -> None:
        try:
            issued = token_create(
                user=self._user(username), name=name, scopes=scopes.split(","), days=days
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"token {issued.token.prefix} ({','.join(issued.token.scopes)}), "
            f"expires {issued.token.expires_at:%Y-%m-%d}; key (shown only once):"
        )
        self.stdout.write(issued.key)

    def _list(self, *, username: str, **_) -> None:
        for token in token_list_for(user=self._user(username)):
            state = "active" if token.is_active else ("revoked" if token.revoked_at else "expired")
            self.stdout.write(
                f"{token.prefix}  {token.name}  {','.join(token.scopes)}  {state}  "
                f"expires {token.expires_at:%Y-%m-%d}  last used {token.last_used_at or '-'}"
            )

    def _revoke(self, *, prefix: str, **_) -> None:
        token = PartnerToken.objects.filter(prefix=prefix).first()
        if token is None:
            raise CommandError(f"no token with prefix {prefix!r}")
        token_revoke(token=token)
        self.stdout.write(f"token {prefix} revoked")
