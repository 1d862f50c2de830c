"""Two-factor authentication pages (A17), included under /2fa/. Plain URL names (no namespace)."""

from django.urls import path

from . import views_two_factor as views

urlpatterns = [
    path("activation/", views.setup, name="two_factor_setup"),
    path("codes-de-secours/", views.backup_codes, name="two_factor_backup_codes"),
    path("verification/", views.verify, name="two_factor_verify"),
    path("nouvel-appareil/<str:token>/", views.link, name="two_factor_link"),
]
