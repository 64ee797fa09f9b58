from django.contrib import admin
from django.urls import include, path, reverse_lazy
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

from config.views import healthz
from recognition.api.trust import RegistryJwksApi

admin.site.site_header = "Merchant identity mutual-recognition registry"
admin.site.site_title = "Recognition registry"
admin.site.index_title = "Trust lists and recognition agreements"
# "View site" leads to a page every staff user may open (the matrix is linked
# beside it for those with a role), never to a path with no page.
admin.site.site_url = reverse_lazy("admin:index")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include("recognition.api.urls")),
    path("trqp/", include("recognition.trqp.urls")),
    path("recognition/", include("recognition.web.urls")),
    path(".well-known/jwks.json", RegistryJwksApi.as_view(), name="registry-jwks"),
    # Public, and indifferent to an Authorization header meant for the API.
    path(
        "api/schema/",
        SpectacularAPIView.as_view(permission_classes=[AllowAny], authentication_classes=[]),
        name="schema",
    ),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="schema", permission_classes=[AllowAny], authentication_classes=[]),
        name="swagger-ui",
    ),
]

# Under /api/ a missing page or an unexpected error is JSON of the error shape
# of DESIGN §10, never a traceback; elsewhere the registry's pages
# (templates/404.html, 500.html, 403.html).
handler403 = "config.views.permission_denied"
handler404 = "recognition.api.errors.not_found"
handler500 = "recognition.api.errors.server_error"
