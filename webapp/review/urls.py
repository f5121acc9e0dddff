from __future__ import annotations

from django.urls import path

from webapp.review import audit_views, plate_views, views

app_name = "review"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("bulk/", views.bulk, name="bulk"),
    path("dashboard/", views.dashboard_view, name="dashboard"),
    path("flags/<int:flag_id>/", views.flag_detail, name="flag"),
    path("flags/<int:flag_id>/hold/", views.flag_hold_renew, name="hold"),
    path(
        "flags/<int:flag_id>/confirm/", views.flag_decide, {"decision": "confirm"}, name="confirm"
    ),
    path(
        "flags/<int:flag_id>/dismiss/", views.flag_decide, {"decision": "dismiss"}, name="dismiss"
    ),
    path("flags/<int:flag_id>/correct/", views.flag_correct, name="correct"),
    path("readings/<int:reading_id>/plate.png", views.plate_crop, name="plate_crop"),
    path("photos/<int:photo_id>/image", views.photo_image, name="photo_image"),
    path("photos/<int:photo_id>/redacted", views.photo_redacted, name="photo_redacted"),
    path("plates/", plate_views.plate_search_view, name="plate_search"),
    # `path`: a typed plate may hold a slash ("AB/1234"); the view keeps letters and digits.
    path("plates/<path:plate>/", plate_views.plate_history_view, name="plate_history"),
    path("audit/", audit_views.audit_log_view, name="audit_log"),
    path("audit.csv", audit_views.audit_csv_view, name="audit_csv"),
]
