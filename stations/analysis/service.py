"""Coverage, gaps and new-site planning for the stations in the store.

``geodata`` does the math on plain points; this module decides *which* stations count
(only those with status ``open``: a temporarily closed station covers nobody), reads the
user's area, demand and candidate files, and hands back results the CLI, the API and the
maps all format. One place, so the three never disagree about what "covered" means.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import h3
import numpy as np
from shapely.geometry.base import BaseGeometry

from geodata.areas import area_km2, load_area
from geodata.coverage import CoverageResult, Gap, coverage, gaps
from geodata.crs import to_wgs84
from geodata.demand import Demand, etown_synthetic_demand, load_demand, uniform_demand
from geodata.errors import GeodataError
from geodata.hexgrid import HexGrid, hex_grid
from geodata.planning import (
    DEFAULT_MIN_GAIN_SHARE,
    PlanResult,
    default_candidates,
    drop_negligible,
    min_sites_for_coverage,
    plan_backup_sites,
    plan_sites,
)
from geodata.reach import SPEEDS_KMH, Reach, minutes_to_metres, straight_line
from stations.errors import FieldError, ValidationFailed
from stations.model import Station

if TYPE_CHECKING:  # stations.orgs loads the store, which loads this package's callers
    from stations.orgs.scope import ReadScope

__all__ = [
    "RULES",
    "Analysis",
    "Candidates",
    "Selection",
    "select_stations",
    "SYNTHETIC_DEMAND",
    "load_candidates",
    "reach_metres",
    "resolve_demand",
]

#: Grids larger than this would take minutes and gigabytes (a country at resolution 9).
MAX_GRID_CELLS = 3_000_000

#: Coverage rules: ``radius`` (the reach asked for) or ``double15`` (1 km AND 15 min walk).
RULES = ("radius", "double15")

#: The "双15" rule: within this straight-line distance AND this many minutes' walk.
DOUBLE15_KM_M = 1000.0
DOUBLE15_MINUTES = 15.0

#: The ``--demand`` value that selects the shipped synthetic E-Town demand layer.
SYNTHETIC_DEMAND = "etown-synthetic"

Progress = Callable[[str], None]


def reach_metres(
    radius_m: float | None = None,
    minutes: float | None = None,
    speed: str | float = "walk",
    default_m: float = 500.0,
) -> float:
    """The reach in metres from a radius, or from minutes at a speed preset (walk, ebike)."""
    if radius_m is not None and minutes is not None:
        raise ValidationFailed(
            [FieldError.from_catalog("radius_m", "give a radius or minutes, not both")]
        )
    if minutes is not None:
        return minutes_to_metres(minutes, speed)
    value = default_m if radius_m is None else radius_m
    if not np.isfinite(value) or value <= 0:
        raise ValidationFailed([FieldError.from_catalog("radius_m", "must be a number > 0", value)])
    return float(value)


def resolve_demand(
    demand: str | Path | Demand | None,
    area: BaseGeometry,
    *,
    crs: str = "wgs84",
    resolution: int = 9,
    grid: HexGrid | None = None,
) -> Demand:
    """The demand layer: a file, the shipped synthetic layer, or uniform over the area."""
    if isinstance(demand, Demand):
        return demand
    if demand is None:
        return uniform_demand(grid=grid) if grid is not None else uniform_demand(area, resolution)
    if str(demand) == SYNTHETIC_DEMAND:
        return etown_synthetic_demand()
    return load_demand(demand, crs=crs, area=area, resolution=resolution)


@dataclass(frozen=True)
class Candidates:
    """Possible new sites (WGS-84) with a label each, e.g. the host's name."""

    lon: np.ndarray
    lat: np.ndarray
    labels: list[str]

    def __len__(self) -> int:
        return int(self.lon.size)


def load_candidates(path: str | Path, crs: str = "wgs84") -> Candidates:
    """Read candidate sites from any station-file format (lon/lat or 经度/纬度, name optional).

    Every bad row is reported with its row number; nothing is silently dropped.
    """
    from stations.io.read import read_sheet

    sheet = read_sheet(path)
    lons, lats, labels, errors = [], [], [], []
    for number, record in sheet.records():
        try:
            lon, lat = float(record.get("lon")), float(record.get("lat"))  # type: ignore[arg-type]
            if not (np.isfinite(lon) and np.isfinite(lat) and abs(lon) <= 180 and abs(lat) <= 90):
                raise ValueError
        except (TypeError, ValueError):
            errors.append(
                FieldError.from_catalog(
                    "lon/lat",
                    "needs valid longitude and latitude",
                    (record.get("lon"), record.get("lat")),
                    number,
                )
            )
            continue
        lons.append(lon)
        lats.append(lat)
        labels.append(str(record.get("name") or f"#{number}"))
    if errors:
        raise ValidationFailed(errors)
    if not lons:
        raise ValidationFailed(
            [FieldError.from_catalog("candidates", "{path}: no candidate sites", path=str(path))]
        )
    lon_a, lat_a = to_wgs84(np.array(lons), np.array(lats), crs)
    return Candidates(np.asarray(lon_a, float), np.asarray(lat_a, float), labels)


@dataclass(frozen=True)
class Selection:
    """Which stations count, and which were left out and why (every output says so)."""

    counted: list[Station]
    closed_by_user: list[Station] = field(default_factory=list)
    closed_at_time: list[Station] = field(default_factory=list)
    unknown_hours: list[Station] = field(default_factory=list)
    not_open_status: int = 0
    at: datetime | None = None
    #: Whose stations were looked at: a reader's organisation and below (None: everything).
    scope: ReadScope | None = None


def select_stations(
    stations: Sequence[Station],
    *,
    at: datetime | None = None,
    close: Sequence[str] = (),
    close_host_types: Sequence[str] = (),
    tz: str = "Asia/Shanghai",
    scope: ReadScope | None = None,
) -> Selection:
    """The stations that count: in ``scope``, status ``open``, not closed by a what-if, open
    at ``at``.

    ``scope`` is the one place analysis is narrowed to a reader's organisation and
    everything below it (the roll-up of their subtree): the API, the analysis map pages and
    the command line's ``--as USER`` hand their reader's scope here, so coverage, gaps and
    plans of a district never count, close or report another district's stations. Stations
    outside it are not looked at at all: a what-if ``close`` naming one is "no such station".
    ``close`` takes store ids or 编号 (external ids); ``close_host_types`` host-type codes.
    At a given time a station counts only when its hours say it is open; stations whose hours
    are unknown then are listed apart and never counted open.

    Raises
    ------
    ValidationFailed
        An id or host type that matches nothing (field ``close`` / ``close_host_type``).
    """
    from stations.hours import is_open
    from stations.vocabulary import HOST_TYPES

    if scope is not None:
        stations = scope.stations(stations)
    errors = []
    wanted = {str(c).strip() for c in close if str(c).strip()}
    found: set[str] = set()
    for s_ in stations:
        for key in (str(s_.id), s_.data.external_id or ""):
            if key in wanted:
                found.add(key)
    for missing in sorted(wanted - found):
        errors.append(
            FieldError.from_catalog(
                "close",
                "no station has the id or external_id {missing!r}",
                missing,
                missing=missing,
            )
        )
    types = {t.strip() for t in close_host_types if t.strip()}
    for bad in sorted(types - set(HOST_TYPES)):
        errors.append(
            FieldError.from_catalog(
                "close_host_type",
                "unknown host type {bad!r}; use one of {valid}",
                bad,
                bad=bad,
                valid=", ".join(HOST_TYPES),
            )
        )
    if at is not None and not (1970 <= at.year <= 2200):
        errors.append(
            FieldError.from_catalog(
                "at",
                "{at} is not a time the opening hours can answer for (1970–2200)",
                at.isoformat(),
                at=at.isoformat(),
            )
        )
    if errors:
        raise ValidationFailed(errors)
    counted, by_user, shut, unknown = [], [], [], []
    not_open = 0
    for s_ in stations:
        if s_.data.status != "open":
            not_open += 1
            continue
        if (
            str(s_.id) in wanted
            or (s_.data.external_id or "") in wanted
            or (s_.data.host_type in types)
        ):
            by_user.append(s_)
            continue
        if at is not None:
            state = is_open(s_.data.opening_hours or "", s_.data.status, at, tz)
            if state is None:
                unknown.append(s_)
                continue
            if not state:
                shut.append(s_)
                continue
        counted.append(s_)
    return Selection(counted, by_user, shut, unknown, not_open, at, scope)


@dataclass
class Analysis:
    """One analysis run: stations, area, demand and reach fixed; results computed on demand.

    The H3 grid and the coverage are shared by the gap and planning steps, so a report
    that asks for all three pays for the grid once.
    """

    stations: Sequence[Station]
    area: BaseGeometry
    radius_m: float = 500.0
    resolution: int = 9
    demand_source: str | Path | Demand | None = None
    demand_crs: str = "wgs84"
    progress: Progress | None = None
    network: str | Path | None = None
    mode: str = "walk"
    rule: str = "radius"
    max_gap_km2: float | None = 1.0
    min_gain_share: float = DEFAULT_MIN_GAIN_SHARE
    selection: Selection | None = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def for_stations(
        cls,
        stations: Sequence[Station],
        *,
        area: str | Path | BaseGeometry | None = None,
        area_crs: str = "wgs84",
        at: datetime | None = None,
        close: Sequence[str] = (),
        close_host_types: Sequence[str] = (),
        tz: str = "Asia/Shanghai",
        scope: ReadScope | None = None,
        **kwargs: Any,
    ) -> Analysis:
        """Only stations that count, in ``scope`` (see :func:`select_stations`); area
        defaults to E-Town's.
        """
        shape = area if isinstance(area, BaseGeometry) else load_area(area, crs=area_crs)
        chosen = select_stations(
            stations, at=at, close=close, close_host_types=close_host_types, tz=tz, scope=scope
        )
        return cls(chosen.counted, shape, selection=chosen, **kwargs)

    @property
    def reach(self) -> float | Reach:
        """The reach model: straight line (default), the street network, or the 双15 rule."""
        if "reach" not in self._cache:
            self._cache["reach"] = self._build_reach()
        return self._cache["reach"]

    def _build_reach(self) -> float | Reach:
        if self.rule not in RULES:
            raise ValidationFailed(
                [
                    FieldError.from_catalog(
                        "rule",
                        "unknown rule {rule!r}; use {valid}",
                        self.rule,
                        rule=self.rule,
                        valid=" or ".join(RULES),
                    )
                ]
            )
        if self.rule == "double15":
            if self.network is None:
                # 1 km AND 1,125 m (15 min at 4.5 km/h) in a straight line is just 1 km
                return straight_line(DOUBLE15_KM_M)
            from geodata.network import load_network, network_reach

            self._step("路网 street network")
            net = load_network(self.network, "walk")
            return network_reach(net, DOUBLE15_MINUTES, cap_m=DOUBLE15_KM_M)
        if self.network is None:
            return self.radius_m
        from geodata.network import NetworkReach, load_network

        self._step("路网 street network")
        net = load_network(self.network, self.mode)
        kmh = SPEEDS_KMH[net.mode]
        return NetworkReach(
            net, self.radius_m, minutes=self.radius_m / (kmh * 1000 / 60), speed_kmh=kmh
        )

    @property
    def uniform(self) -> bool:
        """Whether the demand is the uniform grid (then rankings measure area only)."""
        return self.demand_source is None

    def snap_warnings(self) -> list[tuple[Station, float]]:
        """Counted stations farther than 300 m from any street of the network (with metres)."""
        reach = self.reach
        if not hasattr(reach, "snap") or not self.stations:
            return []
        from geodata.network.snap import SNAP_WARN_M

        snapped = reach.snap(self.lon, self.lat)
        return [
            (self.stations[i], float(snapped.distance_m[i]))
            for i in snapped.far(SNAP_WARN_M).tolist()
        ]

    def _step(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)

    @property
    def lon(self) -> np.ndarray:
        """Longitudes (WGS-84) of the stations analysed."""
        return np.array([s.data.lon for s in self.stations], float)

    @property
    def lat(self) -> np.ndarray:
        """Latitudes (WGS-84) of the stations analysed."""
        return np.array([s.data.lat for s in self.stations], float)

    @property
    def grid(self) -> HexGrid:
        """The H3 grid over the area, built once per analysis."""
        if "grid" not in self._cache:
            estimate = area_km2(self.area) / h3.average_hexagon_area(self.resolution, "km^2")
            if estimate > MAX_GRID_CELLS:
                raise ValidationFailed(
                    [
                        FieldError.from_catalog(
                            "resolution",
                            "about {cells} H3 cells at resolution {resolution}; the limit is "
                            "{limit}: use a coarser resolution or a smaller area",
                            self.resolution,
                            cells=f"{estimate:,.0f}",
                            resolution=self.resolution,
                            limit=f"{MAX_GRID_CELLS:,}",
                        )
                    ]
                )
            self._step(f"H3 网格 grid (res {self.resolution})")
            self._cache["grid"] = hex_grid(self.area, self.resolution)
        return self._cache["grid"]

    @property
    def demand(self) -> Demand:
        """Demand weights on the grid (the configured layer, else the synthetic one)."""
        if "demand" not in self._cache:
            self._step("需求 demand")
            self._cache["demand"] = resolve_demand(
                self.demand_source,
                self.area,
                crs=self.demand_crs,
                resolution=self.resolution,
                grid=self.grid,
            )
        return self._cache["demand"]

    def coverage(self) -> CoverageResult:
        """Which cells the stations reach, weighted by demand."""
        if "coverage" not in self._cache:
            self._step("覆盖 coverage")
            self._cache["coverage"] = coverage(
                self.area,
                self.lon,
                self.lat,
                self.demand,
                self.reach,
                self.resolution,
                grid=self.grid,
            )
        return self._cache["coverage"]

    def gaps(self) -> list[Gap]:
        """Uncovered areas, ranked by the demand they leave unserved."""
        if "gaps" not in self._cache:
            self._step("空白区 gaps")
            self._cache["gaps"] = gaps(
                self.area,
                self.lon,
                self.lat,
                self.demand,
                self.reach,
                self.resolution,
                grid=self.grid,
                coverage_result=self._cache.get("coverage"),
                max_area_km2=self.max_gap_km2,
            )
        return self._cache["gaps"]

    def candidates(self, given: Candidates | None) -> Candidates:
        """Candidate sites for the planner: ``given`` if any, else the grid's cells."""
        if given is not None:
            return given
        lon, lat = default_candidates(
            self.area, self.lon, self.lat, self.demand, self.reach, self.resolution
        )
        if lon.size == 0:
            raise ValidationFailed(
                [
                    FieldError.from_catalog(
                        "candidates",
                        "every part of the area is already covered: no candidate sites",
                    )
                ]
            )
        return Candidates(lon, lat, [f"候选点 {i + 1}" for i in range(lon.size)])

    def plan(
        self,
        new_sites: int,
        candidates: Candidates | None = None,
        method: str = "auto",
        backup: bool = False,
    ) -> tuple[PlanResult, Candidates]:
        """The ``new_sites`` candidates that newly cover the most demand, ranked.

        Sites whose gain is below ``min_gain_share`` of the demand are dropped (the plan says
        how many and why).  With ``backup`` the plan maximises double coverage instead.
        """
        cands = self.candidates(candidates)
        if new_sites < 1:
            raise ValidationFailed(
                [FieldError.from_catalog("new_sites", "must be at least {n}", new_sites, n=1)]
            )
        if new_sites > len(cands):
            raise ValidationFailed(
                [
                    FieldError.from_catalog(
                        "new_sites",
                        "asks for {n} sites but there are only {candidates} candidates",
                        new_sites,
                        n=new_sites,
                        candidates=len(cands),
                    )
                ]
            )
        self._step(f"选址 planning {new_sites} of {len(cands)} candidates")
        if backup:
            result = plan_backup_sites(
                self.demand, self.lon, self.lat, cands.lon, cands.lat, self.reach, new_sites
            )
        else:
            result = plan_sites(
                self.demand,
                self.lon,
                self.lat,
                cands.lon,
                cands.lat,
                self.reach,
                new_sites,
                method=method,
            )
        return drop_negligible(result, self.min_gain_share), cands

    def min_sites(
        self, target_share: float, candidates: Candidates | None = None, method: str = "auto"
    ) -> tuple[PlanResult, Candidates]:
        """The fewest candidates that bring demand coverage to ``target_share`` (0–1)."""
        if not 0 < target_share <= 1:
            raise ValidationFailed(
                [FieldError.from_catalog("target_share", "must be in (0, 1]", target_share)]
            )
        cands = self.candidates(candidates)
        self._step(f"最少站点 fewest sites for {target_share:.0%}")
        try:
            result = min_sites_for_coverage(
                self.demand,
                self.lon,
                self.lat,
                cands.lon,
                cands.lat,
                self.reach,
                target_share,
                method=method,
            )
        except GeodataError as exc:
            raise ValidationFailed(
                [FieldError.of(exc, target_share, field="target_share")]
            ) from exc
        return result, cands


def speed_presets() -> dict[str, float]:
    """Travel-speed presets in km/h (walk 4.5, ebike 15)."""
    return dict(SPEEDS_KMH)
