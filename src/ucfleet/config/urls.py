from django.urls import include, path

urlpatterns = [
    path("api/", include("ucfleet.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("ucfleet.web.urls")),
]
