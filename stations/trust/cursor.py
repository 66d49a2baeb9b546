"""Which stored confirmations this process has applied: the incremental pull's cursor.

Every process keeps the board of recent votes (:mod:`stations.trust.board`) and pulls the
votes other processes store. Ids are allocated before commit, so a slow transaction can
commit an id *below* one already read: a plain ``id > highest seen`` pull would miss it
for good. The cursor therefore remembers, besides the highest id applied (:attr:`top`),
the ids below it not seen yet — *holes* — each with the time it was first noticed:

- a pull asks for ``id > top`` or one of the holes (:meth:`wanted`), so it reads only votes
  this process has not applied (its own writes, applied at once, are never read again);
- a hole filled later (the slow transaction committed) is read by the next pull and closed;
- a hole still open :data:`HOLE_S` after it was noticed is given up: its id was burnt by a
  rolled-back batch, or belongs to a row deleted or out of the window. No write keeps its
  id uncommitted that long (a vote's statement takes milliseconds; the writer's statement
  timeout ends it far sooner).

A jump of the ids notices at most :data:`MAX_GAP` holes below the new id (a transaction
that allocated an id and then waited while thousands were committed after it is as
impossible as one lasting :data:`HOLE_S`), so a process that starts long after the last vote
does not list millions of ids. When more holes are open than a pull may list
(:data:`MAX_LISTED`), it reads everything from the lowest one instead: more rows, never
fewer.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["HOLE_S", "MAX_GAP", "MAX_LISTED", "VoteCursor"]

#: How long an id below the highest applied one is waited for (seconds).
HOLE_S = 60.0
#: The most holes one jump of the ids can notice (the ids just below the new one).
MAX_GAP = 4096
#: The most holes a pull lists by id; beyond, it reads the range from the lowest hole.
MAX_LISTED = 500


class VoteCursor:
    """The highest confirmation id applied and the ids below it still awaited."""

    def __init__(self, *, hole_s: float = HOLE_S, max_gap: int = MAX_GAP) -> None:
        self.hole_s = hole_s
        self.max_gap = max_gap
        #: The highest id applied (0: none).
        self.top = 0
        self._holes: dict[int, float] = {}  # id awaited → when it was first noticed
        self._low: int | None = None  # the lowest hole, while it is one (see held_through)

    @property
    def holes(self) -> list[int]:
        """The ids below :attr:`top` still awaited, ascending."""
        return sorted(self._holes)

    @property
    def held_through(self) -> int:
        """The highest id up to which every id is applied (or given up): just below the
        lowest hole, else :attr:`top`. A vote's transaction reads back only the station's
        votes above it (:attr:`~stations.store.confirmations.PendingVote.held`).

        Asked once per vote, so it must not cost a pass over the holes each time: holes are
        only ever added above every id seen, so the lowest one stays the lowest until it is
        filled or given up, and only then is it looked for again.
        """
        holes = self._holes
        if not holes:
            return self.top
        if self._low not in holes:
            self._low = min(holes)
        return self._low - 1

    def saw(self, ids: Iterable[int], now: float, *, pulled: bool = True) -> None:
        """Note applied ids (any order; repeats are harmless).

        ``pulled``: the ids come from a pull, which read every stored id above :attr:`top`,
        so an id it did not find below the highest is missing (a hole, at most
        :attr:`max_gap` of them). Otherwise they are a process's own vote read back with its
        station's votes: the ids between are unread, not missing. A jump farther than
        ``max_gap`` then leaves :attr:`top` where it is (listing every id between could be
        millions), and the next pull reads everything above it, the own vote included
        (the board skips it as a repeat).
        """
        holes = self._holes
        for cid in sorted(ids):
            if cid > self.top:
                if not pulled and cid - self.top > self.max_gap:
                    break  # this and the higher ids: left for the next pull
                start = max(self.top + 1, cid - self.max_gap)
                for missing in range(start, cid):
                    holes[missing] = now
                self.top = cid
            elif holes:
                holes.pop(cid, None)

    def loaded(self, ids: Iterable[int], now: float, lookback: int, *, highest: int = 0) -> None:
        """Note the ids a process loads at start: below the highest, only the last
        ``lookback`` ids not among them are awaited (older ones are settled: out of the
        window, rolled back or deleted).

        ``highest`` is the store's highest id, in the window or not: a process that starts
        with no vote in the window would otherwise take the first id it sees for a jump and
        await thousands of ids below it (each pull reading every vote since, for a minute).
        """
        got = set(ids)
        top = max(max(got, default=0), highest)
        if not top:
            return
        for missing in range(max(self.top + 1, top - lookback), top):
            if missing not in got:
                self._holes[missing] = now
        self.top = max(self.top, top)
        for cid in got:
            self._holes.pop(cid, None)

    def expire(self, now: float) -> None:
        """Give up the holes noticed more than :attr:`hole_s` ago."""
        if self._holes:
            limit = now - self.hole_s
            self._holes = {i: at for i, at in self._holes.items() if at > limit}

    def wanted(self, max_listed: int = MAX_LISTED) -> tuple[int, list[int]]:
        """What a pull reads: ids above the first number, and the listed ones.

        With more than ``max_listed`` holes the list is empty and the floor is just below
        the lowest hole (every row from there: a superset, the board skips repeats).
        """
        holes = self.holes
        if len(holes) > max_listed:
            return holes[0] - 1, []
        return self.top, holes
