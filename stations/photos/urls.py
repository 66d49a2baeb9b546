"""The served URLs of a photo (no imports: the station formatter needs only this)."""

from __future__ import annotations

__all__ = ["photo_urls"]


def photo_urls(digest: str) -> dict[str, str]:
    """The renditions of a photo as served (``/photos/<digest>/<name>``): JPEG for every
    browser, WebP where supported, and a card-sized thumbnail of each.
    """
    return {
        "url": f"/photos/{digest}/full.jpg",
        "webp": f"/photos/{digest}/full.webp",
        "thumb": f"/photos/{digest}/thumb.jpg",
        "thumb_webp": f"/photos/{digest}/thumb.webp",
    }
