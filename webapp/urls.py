from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.static import serve

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/v1/", include("webapp.api.urls")),
    path("review/", include("webapp.review.urls")),
    # issue 20: /healthz, /metrics and the model-versions page live in webapp.ops
    path("", include("webapp.ops.urls")),
]

if settings.DEBUG or settings.SERVE_MEDIA:
    # The demo and tests serve uploads from Django; production puts a web server in front.
    urlpatterns += [
        path(
            f"{settings.MEDIA_URL.lstrip('/')}<path:path>",
            serve,
            {"document_root": settings.MEDIA_ROOT},
        )
    ]
