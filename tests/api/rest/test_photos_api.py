"""Photos through the API: staff uploads shown at once, riders' held, files served stripped."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from api.app import create_app
from stations.store.sql import SqlStationStore
from tests.api.staff_kit import Staff, add_staff, test_settings
from tests.conftest import make_station
from tests.s3_kit import S3Server
from tests.stations.photos.test_process import jpeg_with_gps, png_bomb


@pytest.fixture
def env(store_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, Staff, SqlStationStore]]:
    store = SqlStationStore(store_url)
    store.create(make_station(), actor="t")
    staff = add_staff(store)
    settings = test_settings(photo_dir=tmp_path / "photos")
    with TestClient(create_app(settings, store=store)) as client:
        yield client, staff, store
    store.close()


def upload(client: TestClient, data: bytes, headers: dict[str, str], path: str = "") -> Any:
    return client.post(
        f"/api/v1/stations/1/photos{path}",
        files={"file": ("door.jpg", data, "image/jpeg")},
        headers=headers,
    )


def test_staff_photo_is_shown_first_and_served_without_gps(env: Any) -> None:
    client, staff, store = env
    r = upload(client, jpeg_with_gps(), staff.as_editor)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "published"
    props = client.get("/api/v1/stations/1").json()["properties"]
    assert props["photos"][0] == body["urls"]
    assert store.history(1)[-1].after["photos"] == [body["digest"]]  # in the history
    near = client.get("/api/v1/nearest", params={"lat": 39.7954, "lon": 116.5068}).json()
    assert near["features"][0]["properties"]["photos"][0]["thumb"] == body["urls"]["thumb"]
    served = client.get(body["urls"]["url"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert "immutable" in served.headers["cache-control"]
    assert not Image.open(io.BytesIO(served.content)).getexif()
    assert client.get(body["urls"]["thumb_webp"]).headers["content-type"] == "image/webp"


def test_staff_take_a_wrong_photo_off_the_station(env: Any) -> None:
    """A wrong door (or a rider's photo accepted by mistake) comes off in a new version,
    guarded by If-Match, in the history; restoring the version before brings it back."""
    client, staff, store = env
    first = upload(client, jpeg_with_gps((640, 480)), staff.as_editor).json()
    second = upload(client, jpeg_with_gps((480, 640)), staff.as_editor).json()
    assert [p["url"] for p in client.get("/api/v1/stations/1").json()["properties"]["photos"]] == [
        second["urls"]["url"],
        first["urls"]["url"],
    ]
    url = f"/api/v1/stations/1/photos/{second['digest']}"
    assert client.delete(url).status_code == 401
    stale = client.delete(url, headers={**staff.as_editor, "If-Match": '"1"'})
    assert stale.status_code == 412
    version = second["station_version"]
    r = client.delete(url, headers={**staff.as_editor, "If-Match": f'"{version}"'})
    assert r.status_code == 200, r.text
    assert r.json()["station_version"] == version + 1
    assert r.json()["photos"] == [first["urls"]]
    assert client.get("/api/v1/stations/1").json()["properties"]["photos"] == [first["urls"]]
    last = store.history(1)[-1]
    assert last.actor == staff.editor_name and last.after["photos"] == [first["digest"]]
    gone = client.delete(url, headers=staff.as_editor)  # not on the station any more
    assert gone.status_code == 404 and "没有显示照片" in gone.json()["detail_zh"]
    bad = client.delete("/api/v1/stations/1/photos/not-a-digest", headers=staff.as_editor)
    assert bad.status_code == 422
    back = client.post(f"/api/v1/stations/1/restore?version={version}", headers=staff.as_editor)
    assert back.status_code == 200, back.text
    assert back.json()["properties"]["photos"][0] == second["urls"]
    assert client.get(second["urls"]["thumb"]).status_code == 200  # its files stayed


def test_uploads_need_an_editor_and_refuse_bombs_and_non_images(env: Any) -> None:
    client, staff, _store = env
    assert upload(client, jpeg_with_gps(), {}).status_code == 401
    bomb = upload(client, png_bomb(20000, 20000), staff.as_editor)
    assert bomb.status_code == 422 and "像素过多" in bomb.json()["errors"][0]["message_zh"]
    junk = upload(client, b"hello", staff.as_editor)
    assert junk.status_code == 422 and junk.json()["errors"][0]["field"] == "file"
    icon = upload(client, jpeg_with_gps((8, 8)), staff.as_editor)
    assert (
        icon.status_code == 422 and "照片太小（8×8 像素）" in icon.json()["errors"][0]["message_zh"]
    )
    missing = client.get("/photos/" + "0" * 64 + "/full.jpg")
    assert missing.status_code == 404
    assert missing.json()["detail_zh"] == "没有找到照片 0000000000000000/full.jpg"
    assert client.get("/photos/../../etc/passwd").status_code == 404


def test_a_riders_photo_waits_for_review(env: Any) -> None:
    client, staff, _store = env
    r = rider_upload(client, "rider-phone-1", confirm(client, "open", "rider-phone-1"))
    assert r.status_code == 202 and r.json()["status"] == "pending"
    assert client.get("/api/v1/stations/1").json()["properties"]["photos"] == []
    queue = client.get("/api/v1/photos", headers=staff.as_editor).json()["photos"]
    assert [p["id"] for p in queue] == [r.json()["id"]]
    thumb = r.json()["urls"]["thumb"]
    assert client.get(thumb).status_code == 404  # held: not for riders' eyes yet
    for who in (staff.as_viewer, {"Authorization": "Bearer not-a-token"}):
        assert client.get(thumb, headers=who).status_code == 404
    for_staff = client.get(thumb, headers=staff.as_editor)
    assert (
        for_staff.status_code == 200 and for_staff.headers["cache-control"] == "private, no-store"
    )
    ok = client.post(f"/api/v1/photos/{r.json()['id']}/accept", headers=staff.as_editor)
    assert ok.status_code == 200
    props = client.get("/api/v1/stations/1").json()["properties"]
    assert props["photos"][0]["url"] == r.json()["urls"]["url"]
    shown = client.get(thumb)
    assert shown.status_code == 200 and "immutable" in shown.headers["cache-control"]


def test_a_riders_photo_without_the_device_id_is_told_what_is_missing(env: Any) -> None:
    """As a confirmation without it: the page's guidance, and the document says required."""
    client, staff, _store = env
    said = confirm(client, "open", "rider-phone-1")
    r = rider_upload(client, None, said)
    assert r.status_code == 422
    error = r.json()["errors"][0]
    assert error["field"] == "X-Device-Id"
    assert error["message_zh"] == "缺少设备标识（页面自动生成的随机编号）"
    bad = rider_upload(client, "short", said)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "X-Device-Id"
    assert client.get("/api/v1/photos", headers=staff.as_editor).json()["photos"] == []
    op = client.get("/openapi.json").json()["paths"]["/api/v1/stations/{station_id}/photos/rider"]
    params = [(p["in"], p["name"], p["required"]) for p in op["post"]["parameters"]]
    assert params.count(("header", "X-Device-Id", True)) == 1


def test_a_refused_photo_is_never_served_to_riders(env: Any) -> None:
    """Held, staff see it and riders do not; refused, its files are deleted, so nobody does."""
    client, staff, _store = env
    r = rider_upload(client, "rider-phone-1", confirm(client, "open", "rider-phone-1"))
    for url in r.json()["urls"].values():
        assert client.get(url).status_code == 404, url
        assert client.get(url, headers=staff.as_editor).status_code == 200, url
    no = client.post(f"/api/v1/photos/{r.json()['id']}/reject", headers=staff.as_editor)
    assert no.status_code == 200 and no.json()["status"] == "rejected"
    for url in r.json()["urls"].values():
        assert client.get(url).status_code == 404, url
        assert client.get(url, headers=staff.as_editor).status_code == 404, url


def test_two_hosts_with_one_bucket_serve_each_others_photos(
    store_url: str, tmp_path: Path, s3_server: S3Server
) -> None:
    """Two apps on one database and one bucket, each with its own (empty) photo folder: what
    one host takes in, the other serves, byte for byte."""
    bucket = s3_server.settings(s3_server.new_bucket())
    store_a, store_b = SqlStationStore(store_url), SqlStationStore(store_url)
    store_a.create(make_station(), actor="t")
    staff = add_staff(store_a)
    app_a = create_app(test_settings(photo_dir=tmp_path / "a", **bucket), store=store_a)
    app_b = create_app(test_settings(photo_dir=tmp_path / "b", **bucket), store=store_b)
    try:
        with TestClient(app_a) as host_a, TestClient(app_b) as host_b:
            staff_photo = upload(host_a, jpeg_with_gps(), staff.as_editor).json()
            said = confirm(host_b, "open", "rider-phone-9")
            rider = rider_upload(host_b, "rider-phone-9", said, photo=jpeg_with_gps((300, 400)))
            assert rider.status_code == 202, rider.text
            ok = host_a.post(f"/api/v1/photos/{rider.json()['id']}/accept", headers=staff.as_editor)
            assert ok.status_code == 200, ok.text
            for body, host, other in (
                (staff_photo, host_a, host_b),
                (rider.json(), host_b, host_a),
            ):
                for url in body["urls"].values():
                    mine, theirs = host.get(url), other.get(url)
                    assert mine.status_code == theirs.status_code == 200, url
                    assert mine.content == theirs.content, url
            shown = host_b.get("/api/v1/stations/1").json()["properties"]["photos"]
            assert [p["url"] for p in shown] == [
                rider.json()["urls"]["url"],
                staff_photo["urls"]["url"],
            ]
    finally:
        store_a.close()
        store_b.close()
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()  # all in the bucket


def confirm(client: TestClient, state: str, device: str) -> int:
    """A rider's 我在这里 tap at the door; its id, for the photo that goes with it."""
    r = client.post(
        "/api/v1/stations/1/confirmations",
        json={"state": state, "lat": 39.7955, "lon": 116.5068},
        headers={"X-Device-Id": device},
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def rider_upload(
    client: TestClient,
    device: str | None,
    confirmation: int | None,
    station: int = 1,
    photo: bytes | None = None,
) -> Any:
    """A rider's photo with its confirmation's id (``None``: sent without; so the device)."""
    return client.post(
        f"/api/v1/stations/{station}/photos/rider",
        files={"file": ("door.jpg", photo or jpeg_with_gps(), "image/jpeg")},
        data={} if confirmation is None else {"confirmation_id": str(confirmation)},
        headers={} if device is None else {"X-Device-Id": device},
    )


def test_a_riders_photo_goes_with_their_confirmation(env: Any) -> None:
    client, staff, store = env
    said = confirm(client, "locked", "rider-phone-1")
    r = rider_upload(client, "rider-phone-1", said)
    assert r.status_code == 202, r.text
    sent = r.json()["confirmation"]
    assert sent["id"] == said and sent["state"] == "locked" and sent["state_zh"] == "进不去"
    assert sent["onsite"] is True
    queue = client.get("/api/v1/photos", headers=staff.as_editor).json()["photos"]
    assert [(p["id"], p["confirmation"]["state_zh"]) for p in queue] == [(r.json()["id"], "进不去")]
    again = rider_upload(client, "rider-phone-1", said)  # one photo per confirmation
    assert again.status_code == 409 and again.json()["detail_zh"] == "这次确认已经附过一张照片了"
    assert len(client.get("/api/v1/photos", headers=staff.as_editor).json()["photos"]) == 1
    assert store.get(1).version == 1  # nothing a rider sent changed the station


def test_a_photo_cannot_borrow_someone_elses_confirmation(env: Any) -> None:
    client, _staff, store = env
    store.create(make_station(name="经海路驿站", lon=116.52), actor="t")
    said = confirm(client, "open", "rider-phone-1")
    for device, station in (("rider-phone-2", 1), ("rider-phone-1", 2)):
        r = rider_upload(client, device, said, station)
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "confirmation_id"
        assert "我在这里" in r.json()["errors"][0]["message_zh"]
    missing = rider_upload(client, "rider-phone-1", 999_999)
    assert missing.status_code == 404 and "999999" in missing.json()["detail_zh"]
    without = rider_upload(client, "rider-phone-1", None)  # a photo goes with a tap
    assert without.status_code == 422
    assert without.json()["errors"][0]["field"] == "confirmation_id"


def test_the_device_is_kept_only_as_its_salted_hash(env: Any) -> None:
    client, staff, _store = env
    rider_upload(client, "rider-phone-secret-1", confirm(client, "open", "rider-phone-secret-1"))
    photo = client.get("/api/v1/photos", headers=staff.as_editor).json()["photos"][0]
    record = client.app.state.services.photos.records.get(photo["id"])  # type: ignore[attr-defined]
    assert record.created_by.startswith("rider:") and "secret" not in record.created_by
    assert "rider-ph" not in record.created_by
