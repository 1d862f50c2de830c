"""Bench URLconf (bench.settings only): the portal's URLs, plus the floors under /_banc/."""

from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns

from . import floors

urlpatterns = [
    path("_banc/plancher/<slug:name>/", floors.floor, name="bench_floor"),
    *portal_urlpatterns,
]
