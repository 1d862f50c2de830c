from django.urls import path

from . import views

urlpatterns = [
    path("demandes/", views.history, name="demandes"),
    path("demandes/export.csv", views.history_export, name="demandes_export"),
    path("demandes/nouvelle/", views.choose, name="demande_choose"),
    path("demandes/nouvelle/<int:caisse_id>/<slug:kind>/", views.file_demande, name="demande_new"),
    path("demandes/<str:reference>/", views.detail, name="demande_detail"),
    path("demandes/<str:reference>/repondre/", views.reply, name="demande_reply"),
    path("demandes/<str:reference>/pieces/<int:piece_id>/", views.download, name="piece_download"),
]
