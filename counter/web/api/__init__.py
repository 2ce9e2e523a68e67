"""The JSON API, by endpoint group; the routes are in counter/urls.py.

apiview.py   api_view and what every API view shares: errors, parameters, admin keys
countapi.py  CountAPI's endpoints (hit, get, create, info, set, update, reset, delete,
             stats), its semantics and fields exactly
v1.py        the v1 reads (figures, breakdown, CSV), create by POST, the OpenAPI document
admin.py     the v1 admin routes: rotate an admin key, claim a site
"""
