from django.urls import path

from counter import views

urlpatterns = [
    path("", views.welcome, name="welcome"),
    path("count", views.count, name="count"),
]
