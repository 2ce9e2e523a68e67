from django.urls import path, re_path

from counter import views

urlpatterns = [
    path("", views.welcome, name="welcome"),
    path("count", views.count, name="count"),
    # Anything below /count/ reaches the view, so a bad name is a 400 with a reason, not a 404.
    re_path(r"^count/(?P<path>[\s\S]*)\Z", views.count, name="count-named"),
]
