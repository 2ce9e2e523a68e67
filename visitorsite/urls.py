from django.urls import include, path

urlpatterns = [path("", include("counter.urls"))]

handler404 = "counter.responses.not_found"
handler500 = "counter.responses.server_error"
