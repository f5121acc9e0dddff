from __future__ import annotations

from django.urls import path

from webapp.gates import views

app_name = "gates_api"

urlpatterns = [
    path("frames/", views.frame_post, name="frames"),
    path("access-list/", views.access_list_get, name="access_list"),
    path("commands/", views.commands_get, name="commands"),
    path("commands/done/", views.command_done_post, name="command_done"),
]
