"""The device hash is the plain HMAC-SHA256 of the id under the salt, cut to 128 bits."""

from __future__ import annotations

import hashlib
import hmac
import threading

from stations.trust.device import device_hash


def _reference(salt: bytes, device_id: str) -> str:
    return hmac.new(salt, device_id.encode("ascii"), hashlib.sha256).hexdigest()[:32]


def test_the_kept_keyed_state_gives_the_plain_hmac() -> None:
    salts = [bytes([i]) * 32 for i in range(20)]  # more salts than are kept
    for salt in salts:
        for device in ("device-0001", "device-0002", "x" * 128):
            assert device_hash(salt, device) == _reference(salt, device)
    # a second pass after the keyed states were dropped and made again
    assert device_hash(salts[0], "device-0001") == _reference(salts[0], "device-0001")
    assert device_hash(salts[0], "device-0001") != device_hash(salts[1], "device-0001")


def test_threads_hashing_at_once_agree_with_the_plain_hmac() -> None:
    salt = b"s" * 32
    wrong: list[str] = []

    def work(n: int) -> None:
        for i in range(300):
            d = f"device-{n}-{i:04d}"
            if device_hash(salt, d) != _reference(salt, d):
                wrong.append(d)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []
