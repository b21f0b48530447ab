from django.urls import include, path

urlpatterns = [
    path("api/", include("ucfleet.api.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("ucfleet.web.urls")),
]

# Under /api/ the API's JSON error shape, elsewhere the portal's pages.
handler400 = "ucfleet.api.errors.bad_request"
handler500 = "ucfleet.api.errors.server_error"
