"""The JSON API under ``/api/v1`` and ``/healthz``: one router per resource, with its schemas."""
