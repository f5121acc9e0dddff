from __future__ import annotations

from csp.decorators import csp_update
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from webapp.api import photos, schema, snapshot, tokens, usage, views, webhooks
from webapp.review.api import PlateSearchView  # plate search (issue 20)

# Registers the token scheme with drf-spectacular.
__all__ = ["schema"]

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(permission_classes=[]), name="schema"),
    path(
        "docs/",
        # Swagger UI sets inline styles; its scripts still come only from this site.
        csp_update({"style-src": ["'self'", "'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(url_name="api:schema", permission_classes=[])
        ),
        name="docs",
    ),
    path("token/", tokens.TokenLogin.as_view(), name="token"),
    path("tokens/", tokens.TokenList.as_view(), name="token-list"),
    path("tokens/rotate/", tokens.TokenRotate.as_view(), name="token-rotate"),
    path("tokens/<str:prefix>/revoke/", tokens.TokenRevoke.as_view(), name="token-revoke"),
    path("listings/", views.ListingListCreate.as_view(), name="listing-list"),
    path("listings/<int:pk>/", views.ListingDetail.as_view(), name="listing-detail"),
    path("listings/<int:pk>/photos/", views.ListingPhotos.as_view(), name="listing-photos"),
    path(
        "listings/<int:pk>/photos/<int:photo_id>/",
        views.ListingPhoto.as_view(),
        name="listing-photo",
    ),
    path("photos/<int:pk>/file/", photos.PhotoFile.as_view(), name="photo-file"),
    path("photos/<int:pk>/redacted/", photos.PhotoRedacted.as_view(), name="photo-redacted"),
    path("recognize/", snapshot.Recognize.as_view(), name="recognize"),
    path("redact/", snapshot.Redact.as_view(), name="redact"),
    path("webhooks/endpoints/", webhooks.EndpointList.as_view(), name="webhook-endpoints"),
    path(
        "webhooks/endpoints/<int:pk>/",
        webhooks.EndpointDetail.as_view(),
        name="webhook-endpoint-detail",
    ),
    path(
        "webhooks/endpoints/<int:pk>/enable/",
        webhooks.EndpointEnable.as_view(),
        name="webhook-endpoint-enable",
    ),
    path(
        "webhooks/endpoints/<int:pk>/rotate-secret/",
        webhooks.EndpointRotateSecret.as_view(),
        name="webhook-endpoint-rotate-secret",
    ),
    path("webhooks/deliveries/", webhooks.DeliveryList.as_view(), name="webhook-deliveries"),
    path(
        "webhooks/deliveries/<int:pk>/redeliver/",
        webhooks.DeliveryRedeliver.as_view(),
        name="webhook-redeliver",
    ),
    # --- plate search for moderators (issue 20) ---
    path("plates/search/", PlateSearchView.as_view(), name="plate-search"),
    path("usage/", usage.Usage.as_view(), name="usage"),
]
