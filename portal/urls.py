from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

admin.site.site_header = "Espace Partenaires — back-office de la caisse"
admin.site.site_title = "Espace Partenaires"
admin.site.index_title = "Administration"

urlpatterns = [
    path("", views.home, name="home"),
    path("connexion/", views.LoginView.as_view(), name="login"),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("contacts/", views.contacts, name="contacts"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
