"""The HTTP surfaces: views, the APIs, embeds, dashboard, live streams, middleware, the
OpenAPI document. They parse a request, call the domain or the store, and render."""
