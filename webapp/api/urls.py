from __future__ import annotations

from django.urls import path
from rest_framework.authtoken.views import obtain_auth_token

from webapp.api import views
from webapp.review.api import PlateSearchView  # plate search (issue 20)

app_name = "api"

urlpatterns = [
    path("token/", obtain_auth_token, name="token"),
    path("listings/", views.ListingListCreate.as_view(), name="listing-list"),
    path("listings/<int:pk>/", views.ListingDetail.as_view(), name="listing-detail"),
    path("listings/<int:pk>/photos/", views.ListingPhotos.as_view(), name="listing-photos"),
    # --- plate search for moderators (issue 20) ---
    path("plates/search/", PlateSearchView.as_view(), name="plate-search"),
]
