from __future__ import annotations

from django.urls import path

from webapp.ops import views

app_name = "ops"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("metrics", views.metrics, name="metrics"),
    path("ops/models/", views.model_versions, name="model_versions"),
    path("ops/models/compare/", views.model_compare, name="model_compare"),
    path("ops/models/corrections/", views.model_corrections, name="model_corrections"),
    path("ops/partners/", views.partners_overview, name="partners"),
]
