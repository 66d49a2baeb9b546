"""Uploads are re-encoded: EXIF/GPS gone, upright, bounded; bombs and non-images refused."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import tracemalloc
import zlib
from pathlib import Path

import pytest
from PIL import Image

from stations.errors import ValidationFailed
from stations.photos.process import MAX_SIDE, MIN_SIDE, THUMB_MAX_BYTES, process_photo


def jpeg_with_gps(size: tuple[int, int] = (640, 480), orientation: int = 1) -> bytes:
    im = Image.new("RGB", size, (200, 30, 30))
    im.paste((30, 30, 200), (0, 0, size[0] // 4, size[1]))  # a blue band on the left
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (39.0, 47.0, 43.0)
    gps[3], gps[4] = "E", (116.0, 30.0, 24.0)
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_gps_exif_comes_out_with_none() -> None:
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the input has GPS
    done = process_photo(original)
    for name, data in done.files.items():
        im = Image.open(io.BytesIO(data))
        assert not im.getexif(), name
        assert "exif" not in im.info and b"Exif" not in data[:4096], name
    assert len(done.digest) == 64


def test_orientation_is_applied_to_the_pixels() -> None:
    done = process_photo(jpeg_with_gps((640, 480), orientation=6))  # "rotate 90° clockwise"
    im = Image.open(io.BytesIO(done.files["full.jpg"]))
    assert im.size == (480, 640) == (done.width, done.height)
    r, g, b = im.getpixel((240, 20))  # the blue band is now at the top
    assert b > 150 and r < 100


def test_long_side_is_capped_and_thumbnails_and_webp_are_made() -> None:
    im = Image.new("RGB", (4000, 1000), (10, 120, 10))
    out = io.BytesIO()
    im.save(out, "PNG")
    done = process_photo(out.getvalue())
    assert (done.width, done.height) == (MAX_SIDE, 512)
    assert Image.open(io.BytesIO(done.files["full.webp"])).format == "WEBP"
    thumb = Image.open(io.BytesIO(done.files["thumb.webp"]))
    assert max(thumb.size) == 480


def png_bomb(width: int, height: int) -> bytes:
    """A valid PNG of ``width``×``height`` black pixels, a few KB compressed."""
    raw = zlib.compressobj(9)
    row = b"\x00" + b"\x00" * width
    body = b"".join(raw.compress(row) for _ in range(min(height, 64))) + raw.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


def test_a_20000_square_png_bomb_is_refused_without_decoding() -> None:
    bomb = png_bomb(20000, 20000)
    assert len(bomb) < 100_000
    tracemalloc.start()
    try:
        with pytest.raises(ValidationFailed) as err:
            process_photo(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024  # 400 MP never reached the decoder
    [e] = err.value.errors
    assert e.field == "file" and "pixels" in e.message and "像素过多" in e.message_zh


@pytest.mark.parametrize(
    "data", [b"", b"not an image at all", b"%PDF-1.7\n...", b"\x89PNG\r\n\x1a\ntruncated"]
)
def test_non_images_are_refused_clearly(data: bytes) -> None:
    with pytest.raises(ValidationFailed) as err:
        process_photo(data)
    assert err.value.errors[0].field == "file" and err.value.errors[0].message_zh


def test_gif_is_refused_by_format() -> None:
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, "GIF")
    with pytest.raises(ValidationFailed) as err:
        process_photo(out.getvalue())
    assert "GIF" in err.value.errors[0].message


@pytest.mark.parametrize("size", [(8, 8), (MIN_SIDE - 1, 1200), (1200, MIN_SIDE - 1)])
def test_a_photo_too_small_to_make_out_the_door_is_refused(size: tuple[int, int]) -> None:
    with pytest.raises(ValidationFailed) as err:
        process_photo(jpeg_with_gps(size))
    error = err.value.errors[0]
    assert error.field == "file"
    assert f"{size[0]}×{size[1]} 像素" in error.message_zh and str(MIN_SIDE) in error.message_zh


def test_the_smallest_accepted_photo_is_kept_at_its_size() -> None:
    done = process_photo(jpeg_with_gps((MIN_SIDE, MIN_SIDE)))
    assert (done.width, done.height) == (MIN_SIDE, MIN_SIDE)


def busy_photo(size: tuple[int, int] = (1600, 1200), sigma: float = 60) -> bytes:
    """A camera-like JPEG with detail everywhere (noise over gradients): the hard case for a
    small thumbnail, unlike the flat test pictures above."""
    w, h = size
    coarse = Image.effect_noise((w // 4, h // 4), sigma).resize(size, Image.Resampling.BICUBIC)
    ramp = Image.linear_gradient("L").resize(size)
    fine = Image.effect_noise(size, 40)
    channels = [Image.blend(c, fine, 0.2) for c in (coarse, ramp, Image.blend(coarse, ramp, 0.5))]
    out = io.BytesIO()
    Image.merge("RGB", channels).save(out, "JPEG", quality=92)
    return out.getvalue()


@pytest.mark.parametrize("sigma", [30, 90])
def test_the_cards_thumbnail_stays_within_its_weight(sigma: float) -> None:
    done = process_photo(busy_photo(sigma=sigma))
    for name in ("thumb.jpg", "thumb.webp"):
        assert len(done.files[name]) <= THUMB_MAX_BYTES, (name, len(done.files[name]))
        assert max(Image.open(io.BytesIO(done.files[name])).size) >= 160
    assert len(done.files["full.webp"]) > THUMB_MAX_BYTES  # the full photo is not the card's


def test_pure_noise_still_gets_a_thumbnail_within_its_weight() -> None:
    noise = Image.merge("RGB", [Image.effect_noise((800, 600), 120) for _ in range(3)])
    out = io.BytesIO()
    noise.save(out, "PNG")
    done = process_photo(out.getvalue())
    assert len(done.files["thumb.webp"]) <= THUMB_MAX_BYTES
    assert len(done.files["thumb.jpg"]) <= THUMB_MAX_BYTES


_PEAK = """
import io, resource, sys, threading
from pathlib import Path
from PIL import Image
from stations.photos.process import process_photo
data = Path(sys.argv[1]).read_bytes()
warm = io.BytesIO()
Image.new("RGB", (400, 300)).save(warm, "JPEG")
process_photo(warm.getvalue())  # the libraries' own memory, before the measurement
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
threads = [threading.Thread(target=process_photo, args=(data,)) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


def test_a_burst_of_large_photos_stays_within_a_bounded_memory(tmp_path: Path) -> None:
    """Four 48-megapixel camera photos at once: each decoded at a reduced scale, one at a
    time. Decoded whole and all at once they took over a gigabyte (about 300 MB each)."""
    photo = Image.new("RGB", (8000, 6000), (180, 60, 40))
    photo.paste((20, 40, 200), (1000, 1000, 3000, 5000))
    path = tmp_path / "camera.jpg"
    photo.save(path, "JPEG", quality=70)
    del photo
    out = subprocess.run(
        [sys.executable, "-c", _PEAK, str(path)], capture_output=True, text=True, check=True
    )
    grew_mb = int(out.stdout.strip())
    assert grew_mb < 250, f"peak memory grew by {grew_mb} MB"


def test_a_large_lossless_image_is_refused_before_decoding() -> None:
    """A 7000×7000 paletted PNG is 48 KB on the wire and about 400 MB once decoded and made
    RGB; PNG and WebP cannot be decoded at a reduced scale, so their cap is lower."""
    im = Image.new("P", (7000, 7000), 0)
    out = io.BytesIO()
    im.save(out, "PNG")
    assert len(out.getvalue()) < 100_000
    with pytest.raises(ValidationFailed) as err:
        process_photo(out.getvalue())
    [e] = err.value.errors
    assert e.field == "file" and "24,000,000" in e.message and "像素过多" in e.message_zh
    # the same number of pixels from a camera (JPEG) is accepted, scaled to MAX_SIDE
    camera = io.BytesIO()
    Image.new("RGB", (7000, 7000), (90, 90, 90)).save(camera, "JPEG", quality=60)
    done = process_photo(camera.getvalue())
    assert (done.width, done.height) == (MAX_SIDE, MAX_SIDE)
