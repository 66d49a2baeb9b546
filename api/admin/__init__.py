"""The staff console under ``/admin``: routes, page rendering, sessions, uploads, import/export."""
