from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from webapp.listings import services
from webapp.listings.models import Listing, ListingEdit, Photo
from webapp.listings.validation import PhotoRejected


class PhotoInline(admin.TabularInline):
    model = Photo
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["image", "status", "width", "height", "attempts", "last_error", "model_version"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # photos are added through the validated photo form


class ListingEditInline(admin.TabularInline):
    """What the seller's declared fields were before each change (read only)."""

    model = ListingEdit
    extra = 0
    can_delete = False
    fields = ["edited_at", "by", "changes"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = ["marketplace_id", "owner", "declared_make", "declared_model", "created_at"]
    list_filter = ["declared_make", "created_at"]
    search_fields = ["marketplace_id", "declared_plate", "declared_vin", "owner__username"]
    raw_id_fields = ["owner"]
    inlines = [PhotoInline, ListingEditInline]

    def save_model(self, request: HttpRequest, obj: Listing, form: forms.ModelForm, change: bool):
        """A change of the declared fields goes through the service, as the API's does: kept
        as an edit, and the listing checked against the register again."""
        if not change:
            super().save_model(request, obj, form, change)
            return
        declared = [n for n in form.changed_data if n in services.DECLARED_FIELDS]
        other = [n for n in form.changed_data if n not in services.DECLARED_FIELDS]
        if other:
            obj.save(update_fields=[*other, "updated_at"])
        if declared:
            services.listing_declared_update(
                listing_id=obj.pk,
                changes={name: form.cleaned_data[name] for name in declared},
                by=request.user,
            )


class PhotoUploadForm(forms.ModelForm):
    """The admin's way in: the upload goes through the same validation as the API."""

    upload = forms.FileField(help_text="JPEG, PNG or WebP")

    class Meta:
        model = Photo
        fields = ["listing"]

    def clean(self) -> dict:
        cleaned = super().clean()
        upload = cleaned.get("upload")
        listing = cleaned.get("listing")
        if upload is not None and listing is not None:
            try:
                self.added = services.photo_add(listing=listing, upload=upload)
            except PhotoRejected as exc:
                raise forms.ValidationError({"upload": exc.reason}) from exc
            except services.PhotosNotStored as exc:
                field = "listing" if exc.code == "listing_deleted" else "upload"
                raise forms.ValidationError({field: exc.reason}) from exc
        return cleaned


@admin.register(Photo)
class PhotoAdmin(admin.ModelAdmin):
    list_display = ["id", "listing", "status", "attempts", "model_version", "created_at"]
    list_filter = ["status", "model_version", "created_at"]
    search_fields = ["listing__marketplace_id", "sha256", "last_error"]
    raw_id_fields = ["listing"]
    readonly_fields = [
        "image", "sha256", "width", "height", "status", "attempts", "last_error",
        "model_version", "processed_at", "created_at", "updated_at",
    ]  # fmt: skip
    actions = ["recognise_again"]

    def get_form(self, request: HttpRequest, obj: Photo | None = None, **kwargs):  # type: ignore[no-untyped-def]
        if obj is None:
            kwargs["form"] = PhotoUploadForm
            kwargs["fields"] = ["listing", "upload"]
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Photo | None = None) -> list[str]:
        return self.readonly_fields if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Photo, form: forms.Form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        added = form.added  # stored by PhotoUploadForm.clean through the service
        form.instance = added.photo
        obj.pk = added.photo.pk
        if not added.created:
            messages.warning(request, "The same photo is already on this listing; kept it once.")
            return
        # Kept among the listing's edits, as a partner's photo added through the API is (the
        # admin's form and this run in one transaction).
        services.photos_added_keep(
            listing=added.photo.listing, photos=[added.photo], by=request.user
        )

    def save_related(self, request: HttpRequest, form: forms.Form, formsets, change: bool) -> None:  # type: ignore[no-untyped-def]
        if change:
            super().save_related(request, form, formsets, change)

    @admin.action(description="Recognise the selected photos again")
    def recognise_again(self, request: HttpRequest, queryset: QuerySet[Photo]) -> None:
        ids = list(queryset.values_list("id", flat=True))
        queryset.update(status=Photo.Status.PENDING, attempts=0, last_error="")
        for photo_id in ids:
            services.photo_enqueue_recognition(photo_id=photo_id)
        self.message_user(request, f"{len(ids)} photos sent to recognition.")
