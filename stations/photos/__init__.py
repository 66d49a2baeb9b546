"""Station photos: re-encoded uploads (``process``, Pillow), their bytes (``blobs``: a
folder or an S3-compatible bucket), the flow (``service``) and the served URLs (``urls``).

Only ``photo_urls`` is re-exported: the station formatter needs it on every import, and the
rest pulls in Pillow and the store, which a plain station answer never needs.
"""

from stations.photos.urls import photo_urls

__all__ = ["photo_urls"]
