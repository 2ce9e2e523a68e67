# The app's routes at the root, not through include(""): one resolver less on every hit.
from counter.urls import urlpatterns  # noqa: F401

handler400 = "counter.web.responses.bad_request"
handler404 = "counter.web.responses.not_found"
handler500 = "counter.web.responses.server_error"
