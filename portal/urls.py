from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts.views_two_factor import admin_login

from . import views, views_content
from .admin_site import PortalAdminSite

# A17: the back-office requires a session verified by a second factor (OTPAdminSite.has_permission);
# its index opens on the agent's work queues.
admin.site.__class__ = PortalAdminSite

urlpatterns = [
    path("", views.home, name="home"),
    path("connexion/", views.LoginView.as_view(), name="login"),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("contacts/", views.contacts, name="contacts"),
    path("documentation/", views_content.documentation, name="documentation"),
    path("documentation/<int:document_id>/telecharger/", views_content.download, name="document_download"),
    path("", include("accounts.urls")),
    path("", include("requests_app.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("2fa/", include("accounts.urls_two_factor")),
    # Before the admin's own URLs: its login is the portal's login, then the second step.
    path("admin/login/", admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
]
