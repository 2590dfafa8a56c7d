"""URLs (namespace ``sso``): discovery at the site root, the endpoints under ``/oidc/``."""

from django.urls import URLPattern, URLResolver, path

from dancu.blocks.sso import views

app_name = "sso"
urlpatterns: list[URLPattern | URLResolver] = [
    path(".well-known/openid-configuration", views.discovery, name="discovery"),
    path("oidc/jwks", views.jwks, name="jwks"),
    path("oidc/authorize", views.AuthorizeView.as_view(), name="authorize"),
    path("oidc/token", views.Token.as_view(), name="token"),
    path("oidc/userinfo", views.UserInfo.as_view(), name="userinfo"),
    path("oidc/revoke", views.Revoke.as_view(), name="revoke"),
    path("oidc/introspect", views.IntrospectView.as_view(), name="introspect"),
    path("oidc/logout", views.LogoutView.as_view(), name="logout"),
]
