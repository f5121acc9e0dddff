from __future__ import annotations

from django.urls import path

from webapp.review import views

app_name = "review"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("bulk/", views.bulk, name="bulk"),
    path("dashboard/", views.dashboard_view, name="dashboard"),
    path("flags/<int:flag_id>/", views.flag_detail, name="flag"),
    path(
        "flags/<int:flag_id>/confirm/", views.flag_decide, {"decision": "confirm"}, name="confirm"
    ),
    path(
        "flags/<int:flag_id>/dismiss/", views.flag_decide, {"decision": "dismiss"}, name="dismiss"
    ),
    path("flags/<int:flag_id>/correct/", views.flag_correct, name="correct"),
    path("readings/<int:reading_id>/plate.png", views.plate_crop, name="plate_crop"),
    path("photos/<int:photo_id>/image", views.photo_image, name="photo_image"),
]
