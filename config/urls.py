from django.contrib import admin
from django.urls import path

from config.views import healthz

admin.site.site_header = "Merchant identity mutual-recognition registry"
admin.site.site_title = "Recognition registry"
admin.site.index_title = "Trust lists and recognition agreements"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]
