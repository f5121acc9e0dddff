from __future__ import annotations

from django.urls import path

from webapp.gates import pages

app_name = "gates"

urlpatterns = [
    path("", pages.passages_live, name="passages"),
    path("passages.csv", pages.passages_export, name="passages_csv"),
    path("passages/<int:passage_id>/", pages.passage_detail, name="passage"),
    path("frames/<int:frame_id>.jpg", pages.frame_image, name="frame_image"),
    path("frames/<int:frame_id>/thumb.jpg", pages.frame_thumb, name="frame_thumb"),
    path("devices/", pages.devices, name="devices"),
    path("audit/", pages.audit_log, name="audit"),
    path("audit.csv", pages.audit_export, name="audit_csv"),
    path("sites/", pages.sites, name="sites"),
    path("sites/<int:site_id>/", pages.site_detail, name="site"),
    path("sites/<int:site_id>/visits.csv", pages.site_visits_export, name="site_visits_csv"),
    path(
        "sites/<int:site_id>/visits/<int:visit_id>/close/",
        pages.visit_close,
        name="visit_close",
    ),
    path("<int:gate_id>/access/", pages.access_list, name="access_list"),
    path("<int:gate_id>/open/", pages.gate_open, name="gate_open"),
    path("<int:gate_id>/access/import/", pages.access_import, name="access_import"),
    path("<int:gate_id>/access/export/", pages.access_export, name="access_export"),
    path(
        "<int:gate_id>/access/<int:entry_id>/delete/",
        pages.access_entry_delete,
        name="access_delete",
    ),
]
