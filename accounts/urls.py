from django.urls import path

from . import views_auth, views_gestionnaire

urlpatterns = [
    path("activation/<str:token>/", views_auth.activate, name="activate"),
    path("activation/<str:token>/nouveau-lien/", views_auth.activate_renew, name="activate_renew"),
    path("mot-de-passe/oublie/", views_auth.password_reset, name="password_reset"),
    path("mot-de-passe/nouveau/<str:token>/", views_auth.password_reset_confirm, name="password_reset_confirm"),
    path("mot-de-passe/changer/", views_auth.password_change, name="password_change"),
    path("mot-de-passe/expire/", views_auth.password_change, {"expired": True}, name="password_expired"),
    path("cgu/", views_auth.cgu_view, name="cgu"),
    path("signalement/", views_gestionnaire.incident_report, name="incident_report"),
    path("structure/comptes/", views_gestionnaire.accounts_list, name="accounts_list"),
    path("structure/comptes/export.csv", views_gestionnaire.accounts_export, name="accounts_export"),
    path("structure/comptes/nouveau-technicien/", views_gestionnaire.technicien_create, name="technicien_create"),
    path("structure/comptes/<int:pk>/relancer/", views_gestionnaire.resend_invitation, name="resend_invitation"),
    path(
        "structure/comptes/<int:pk>/inactiver/", views_gestionnaire.technicien_inactivate, name="technicien_inactivate"
    ),
    path(
        "structure/comptes/<int:pk>/reinitialiser-2fa/",
        views_gestionnaire.technicien_reset_two_factor,
        name="technicien_reset_two_factor",
    ),
    path(
        "structure/comptes/<int:pk>/demande-modification/",
        views_gestionnaire.gestionnaire_modification,
        name="gestionnaire_modification",
    ),
    path(
        "structure/comptes/<int:pk>/demande-inactivation/",
        views_gestionnaire.gestionnaire_inactivation,
        name="gestionnaire_inactivation",
    ),
    path("structure/habilitation-gestionnaire/", views_gestionnaire.habilitation_request, name="habilitation_request"),
    path("structure/revues/<int:pk>/attester/", views_gestionnaire.review_attest, name="review_attest"),
]
