"""A photo as uploaded → the photo as served: re-encoded, stripped, oriented, bounded.

Pillow re-encodes every upload, so nothing of the original file survives but its pixels:
EXIF (with GPS — a rider's photo would otherwise say where they live), XMP, comments and
maker notes are gone; the EXIF orientation is applied to the pixels first so the door is
upright. The long side is capped at :data:`MAX_SIDE`; a thumbnail is made for the card;
each comes as JPEG (every browser, old WeChat on iOS included) and WebP (a third smaller).

Refused, with a reason in Chinese and English, before any pixel is decoded where possible:
files over :data:`MAX_BYTES`, anything Pillow does not recognise as JPEG/PNG/WebP, images
of more than :data:`MAX_PIXELS` pixels (a 20000×20000 PNG "bomb" is a few KB on the wire and
1.6 GB in memory: the header says its size, and that is where it stops), and images whose
short side is under :data:`MIN_SIDE` pixels: a door photo is there to be recognised at the
door, and an icon or a thumbnail saved by mistake would be stretched into a blur on the card.

What an accepted photo may take in memory is bounded too, because riders' uploads are
anonymous. A JPEG (every phone camera's format) is decoded at a reduced scale, no larger than
it must be for the long side to reach :data:`MAX_SIDE` (JPEG's DCT scaling: a 50-megapixel
photo is decoded at a quarter of its pixels). PNG and WebP cannot be: they are held to
:data:`MAX_PIXELS_LOSSLESS`, far above any screenshot, and a 7000×7000 paletted PNG (48 KB on
the wire) no longer reaches the decoder. And a process decodes one photo at a time
(:data:`_DECODING`): a burst of uploads waits its turn rather than each taking its hundreds of
megabytes at once.
"""

from __future__ import annotations

import hashlib
import io
import threading
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from stations.errors import FieldError, ValidationFailed

__all__ = [
    "MAX_BYTES",
    "MAX_PIXELS",
    "MAX_PIXELS_LOSSLESS",
    "MAX_SIDE",
    "MIN_SIDE",
    "RENDITIONS",
    "THUMB_MAX_BYTES",
    "Processed",
    "process_photo",
]

MAX_BYTES = 15 * 1024 * 1024
MAX_PIXELS = 50_000_000  # a 50-megapixel phone camera, with room
#: PNG and WebP are decoded whole (no reduced-scale decoding as for JPEG): 24 megapixels is
#: a 6000×4000 picture, several times any phone's screenshot.
MAX_PIXELS_LOSSLESS = 24_000_000
#: Held while a photo is decoded and re-encoded: one at a time per process (see above).
_DECODING = threading.BoundedSemaphore(1)
_JPEG = {"JPEG", "MPO"}
MAX_SIDE = 2048
#: The shortest a photo's short side may be. The card shows the door photo up to 120 CSS px
#: tall on phones of 2–3 device pixels per CSS pixel; below this nothing at the door can be
#: made out. Any phone camera, and WeChat's compressed "original", is far above it.
MIN_SIDE = 200
THUMB_SIDE = 480
#: The most a card's door photo (one thumbnail) may weigh: under a third of the rider page's
#: 80 KB first load, on a phone's weak signal. A typical door photo fits at the first try;
#: a busy one is re-encoded at lower quality, then smaller, until it fits.
THUMB_MAX_BYTES = 24 * 1024
_THUMB_STEPS = [(side, q) for side in (THUMB_SIDE, 400, 320, 240, 160) for q in (80, 60, 40)]
_FORMATS = {"JPEG", "PNG", "WEBP", "MPO"}  # MPO: what some phones' JPEGs are
#: File name → media type of what is stored for each photo.
RENDITIONS = {
    "full.jpg": "image/jpeg",
    "full.webp": "image/webp",
    "thumb.jpg": "image/jpeg",
    "thumb.webp": "image/webp",
}


@dataclass(frozen=True)
class Processed:
    """The renditions of one photo; ``digest`` (SHA-256 of ``full.jpg``) names it."""

    digest: str
    width: int
    height: int
    files: dict[str, bytes]


def _refuse(msgid: str, value: object = None, **params: object) -> ValidationFailed:
    return ValidationFailed([FieldError.from_catalog("file", msgid, value, None, **params)])


def _encode(im: Image.Image, fmt: str, quality: int | None = None) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        im.save(out, "JPEG", quality=quality or 85, optimize=True, progressive=True)
    else:
        im.save(out, "WEBP", quality=quality or 80, method=4)
    return out.getvalue()


def _thumbnail(im: Image.Image, fmt: str) -> bytes:
    """The card's rendition in ``fmt``, within :data:`THUMB_MAX_BYTES` (the last step, 160 px
    at quality 40, fits even for pure noise).
    """
    data = b""
    for side, quality in _THUMB_STEPS:
        thumb = im.copy()
        thumb.thumbnail((side, side), Image.Resampling.LANCZOS)
        data = _encode(thumb, fmt, quality)
        if len(data) <= THUMB_MAX_BYTES:
            break
    return data


def process_photo(data: bytes) -> Processed:
    """Check and re-encode an upload; raises ``ValidationFailed`` (field ``file``)."""
    with _DECODING:
        return _process(data)


def _process(data: bytes) -> Processed:
    if not data:
        raise _refuse("is empty")
    if len(data) > MAX_BYTES:
        raise _refuse(
            "is larger than {limit} MB ({size} bytes)",
            limit=MAX_BYTES // (1024 * 1024),
            size=len(data),
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))  # reads the header only
            if im.format not in _FORMATS:
                raise _refuse(
                    "must be a JPEG, PNG or WebP photo, not {format}", im.format, format=im.format
                )
            width, height = im.size
            limit = MAX_PIXELS if im.format in _JPEG else MAX_PIXELS_LOSSLESS
            if width * height > limit:
                raise _refuse(
                    "has {width}×{height} pixels, more than {limit}",
                    f"{width}x{height}",
                    width=width,
                    height=height,
                    limit=f"{limit:,}",
                )
            if min(width, height) < MIN_SIDE:
                raise _refuse(
                    "has {width}×{height} pixels; the short side must be at least {limit}",
                    f"{width}x{height}",
                    width=width,
                    height=height,
                    limit=MIN_SIDE,
                )
            if im.format in _JPEG:  # decoded at the smallest scale that still fills MAX_SIDE
                im.draft("RGB", (MAX_SIDE, MAX_SIDE))
            im.load()
    except ValidationFailed:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _refuse("has too many pixels to decode safely ({error})", error=exc) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise _refuse(
            "is not an image this service can read ({error})", error=type(exc).__name__
        ) from None
    im = ImageOps.exif_transpose(im)  # the pixels upright; the tag itself is not carried over
    # Scaled down before anything else is made of it, so each copy is the small one.
    if im.mode in ("RGBA", "LA", "P"):
        im = im.convert("RGBA")
        im.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
        flat = Image.new("RGB", im.size, (255, 255, 255))
        flat.paste(im, mask=im.getchannel("A"))
        im = flat
    else:
        if im.mode != "RGB":
            im = im.convert("RGB")
        im.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    im.info.clear()  # no EXIF, XMP, ICC or comments reach the encoders
    files = {
        "full.jpg": _encode(im, "JPEG"),
        "full.webp": _encode(im, "WEBP"),
        "thumb.jpg": _thumbnail(im, "JPEG"),
        "thumb.webp": _thumbnail(im, "WEBP"),
    }
    digest = hashlib.sha256(files["full.jpg"]).hexdigest()
    return Processed(digest, im.width, im.height, files)
