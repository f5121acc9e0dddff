"""Reads for the API's listings: who may see what, with photos, readings and flags."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Prefetch, QuerySet

from recognition.models import Reading
from webapp.listings.models import Listing, Photo


def listing_list_visible(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Listing]:
    """Staff see every listing; a partner sees the listings it created; anyone else none."""
    if not user.is_authenticated:
        return Listing.objects.none()
    listings = Listing.objects.all()
    if not user.is_staff:
        listings = listings.filter(owner=user)
    return listings.select_related("owner", "verdict", "crosscheck_request").prefetch_related(
        Prefetch(
            "photos",
            queryset=Photo.objects.order_by("id").prefetch_related(
                Prefetch("readings", queryset=Reading.objects.order_by("-created_at", "id"))
            ),
        ),
        "flags",
    )


def listing_get_visible(
    *, user: AbstractBaseUser | AnonymousUser, listing_id: int
) -> Listing | None:
    return listing_list_visible(user=user).filter(pk=listing_id).first()


def listing_row_visible(
    *, user: AbstractBaseUser | AnonymousUser, listing_id: int
) -> Listing | None:
    """The listing's own row, if `user` may see it: for a change, which reads what it needs
    under its own lock, where `listing_get_visible` would load photos, readings and flags."""
    if not user.is_authenticated:
        return None
    listings = Listing.objects.all() if user.is_staff else Listing.objects.filter(owner=user)
    return listings.filter(pk=listing_id).first()


def listing_id_taken(*, marketplace_id: str) -> int | None:
    """The id of the listing that holds `marketplace_id`, whoever's it is."""
    return (
        Listing.objects.filter(marketplace_id=marketplace_id).values_list("pk", flat=True).first()
    )
