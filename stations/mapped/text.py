"""Text search (``q``) over a mapped snapshot: the compiled search and the plain one.

* :func:`containing` — what a mapped catalog answers with: the stations among some
  positions whose shared, case-folded UTF-8 text (``text.npy``, one range a station)
  contains a word, one ``memmem`` a station (``_text.pyx``); no per-worker copy of the
  text, no object a station.
* :func:`containing_reference` — the in-memory catalog's test, ``word in text`` over
  ``str``; a property test holds the two to the same positions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from stations.mapped._text import containing as _containing

__all__ = ["containing", "containing_reference"]


def containing(
    text: np.ndarray, offsets: np.ndarray, positions: np.ndarray, word: str
) -> np.ndarray:
    """The positions among ``positions`` (kept in order) whose text
    ``text[offsets[p]:offsets[p + 1]]`` (UTF-8) contains ``word``.
    """
    return _containing(
        text,
        offsets.astype(np.int64, copy=False),
        np.ascontiguousarray(positions, np.intp),
        word.encode("utf-8", "surrogatepass"),
    )


def containing_reference(texts: Sequence[str], positions: Sequence[int], word: str) -> list[int]:
    """The plain version: the positions whose ``texts[p]`` contains ``word``."""
    return [p for p in positions if word in texts[p]]
