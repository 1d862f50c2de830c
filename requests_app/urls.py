from django.urls import path

from . import views, views_assistance

urlpatterns = [
    path("demandes/", views.history, name="demandes"),
    path("demandes/export.csv", views.history_export, name="demandes_export"),
    path("demandes/nouvelle/", views.choose, name="demande_choose"),
    path("demandes/nouvelle/<int:caisse_id>/<slug:kind>/", views.file_demande, name="demande_new"),
    path("demandes/<str:reference>/", views.detail, name="demande_detail"),
    path("demandes/<str:reference>/repondre/", views.reply, name="demande_reply"),
    path("demandes/<str:reference>/pieces/<int:piece_id>/", views.download, name="piece_download"),
    # P7: assistance (problems reported to the caisse) and the caisse's information to its partners.
    path("assistance/", views_assistance.tickets, name="tickets"),
    path("assistance/signaler/", views_assistance.report, name="ticket_report"),
    path("assistance/<str:reference>/", views_assistance.ticket_detail, name="ticket_detail"),
    path("assistance/<str:reference>/repondre/", views_assistance.ticket_reply, name="ticket_reply"),
    path(
        "assistance/<str:reference>/captures/<int:attachment_id>/",
        views_assistance.ticket_attachment,
        name="ticket_attachment",
    ),
    path(
        "informations/<int:information_id>/lue/",
        views_assistance.information_acknowledge,
        name="information_acknowledge",
    ),
]
