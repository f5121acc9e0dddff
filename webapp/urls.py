from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from webapp.api.photos import media_serve

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    # The page header's language switcher posts to set_language (/i18n/setlang/).
    path("i18n/", include("django.conf.urls.i18n")),
    # Parking gates (issue #16): the signed device API and the operator pages.
    path("api/v1/gates/", include("webapp.gates.api_urls")),
    path("gates/", include("webapp.gates.urls")),
    path("api/v1/", include("webapp.api.urls")),
    path("review/", include("webapp.review.urls")),
    # issue 20: /healthz, /metrics and the model-versions page live in webapp.ops
    path("", include("webapp.ops.urls")),
]

# Photos are private (issue 17): every /media/ request passes the same check as the API;
# in production nginx then sends the file (X-Accel-Redirect), see webapp/api/photos.py.
urlpatterns += [path(f"{settings.MEDIA_URL.lstrip('/')}<path:path>", media_serve, name="media")]
