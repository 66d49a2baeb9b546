"""Response compression: valid, reproducible gzip, and the middleware's choices."""

from __future__ import annotations

import gzip
import threading
import zlib

from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from api.http.compression import GzipMiddleware, gzip_member


def _fresh_thread(body: bytes, level: int) -> bytes:
    """``gzip_member`` in a new thread, which compressed nothing before."""
    out: list[bytes] = []
    worker = threading.Thread(target=lambda: out.append(gzip_member(body, level)))
    worker.start()
    worker.join()
    return out[0]


_BODIES = st.lists(
    st.one_of(st.binary(max_size=3_000), st.text(max_size=2_000).map(lambda t: (t * 3).encode())),
    min_size=1,
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(_BODIES, st.sampled_from([0, 1, 3]))
def test_each_answer_is_a_whole_gzip_file_independent_of_earlier_ones(
    bodies: list[bytes], level: int
) -> None:
    for body in bodies:
        packed = gzip_member(body, level)
        assert gzip.decompress(packed) == body
        strict = zlib.decompressobj(wbits=31)  # one member, nothing after it
        assert strict.decompress(packed) == body and strict.eof and not strict.unused_data
    # Nothing an earlier answer left behind changes the bytes.
    assert gzip_member(bodies[0], level) == _fresh_thread(bodies[0], level)


def _app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(GzipMiddleware)
    big = {"features": [{"name": "暖心驿站", "i": i} for i in range(200)]}

    @app.get("/big")
    def big_json() -> JSONResponse:
        return JSONResponse(big)

    @app.get("/small")
    def small() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.get("/stream")
    def stream() -> StreamingResponse:
        return StreamingResponse(iter([b"a" * 800, b"b" * 800]), media_type="text/plain")

    return app


def test_the_middleware_compresses_whole_text_answers_only() -> None:
    with TestClient(_app()) as client:
        r = client.get("/big", headers={"Accept-Encoding": "gzip"})
        assert r.headers["content-encoding"] == "gzip"
        assert r.headers["vary"] == "Accept-Encoding"
        assert int(r.headers["content-length"]) == r.num_bytes_downloaded < len(r.content) / 4
        assert r.json()["features"][199] == {"name": "暖心驿站", "i": 199}
        assert (
            "content-encoding"
            not in client.get("/big", headers={"Accept-Encoding": "identity"}).headers
        )
        assert (
            "content-encoding"
            not in client.get("/small", headers={"Accept-Encoding": "gzip"}).headers
        )  # under 500 bytes
        streamed = client.get("/stream", headers={"Accept-Encoding": "gzip"})
        assert "content-encoding" not in streamed.headers
        assert streamed.content == b"a" * 800 + b"b" * 800
