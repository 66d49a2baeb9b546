"""OGC API - Features under ``/ogc``: routes, documents, parameters, HTML and OpenAPI views."""
