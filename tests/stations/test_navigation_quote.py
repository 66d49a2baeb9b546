"""The navigation links' quoting is urllib's ``quote(text, safe="")``, character for character."""

from __future__ import annotations

from urllib.parse import quote as urllib_quote

from hypothesis import given, settings
from hypothesis import strategies as st

from stations.navigation import quote


@settings(max_examples=500)
@given(st.text(st.characters(exclude_categories=["Cs"])))
def test_quote_equals_urllib(text: str) -> None:
    assert quote(text) == urllib_quote(text, safe="")


def test_quote_of_station_text() -> None:
    for text in ["", "荣华中路10号", "a b/c?d=e&f", "驿站 🚴 “引号”，顿号、", "~_.-AZaz09", "%41"]:
        assert quote(text) == urllib_quote(text, safe="")
