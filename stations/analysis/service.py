"""Coverage, gaps and new-site planning for the stations in the store.

``geodata`` does the math on plain points; this module decides *which* stations count
(only those with status ``open``: a temporarily closed station covers nobody), reads the
user's area, demand and candidate files, and hands back results the CLI, the API and the
maps all format. One place, so the three never disagree about what "covered" means.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h3
import numpy as np
from shapely.geometry.base import BaseGeometry

from geodata.areas import area_km2, load_area
from geodata.coverage import CoverageResult, Gap, coverage, gaps
from geodata.crs import to_wgs84
from geodata.demand import Demand, etown_synthetic_demand, load_demand, uniform_demand
from geodata.errors import GeodataError
from geodata.hexgrid import HexGrid, hex_grid
from geodata.planning import PlanResult, default_candidates, min_sites_for_coverage, plan_sites
from geodata.reach import SPEEDS_KMH, minutes_to_metres
from stations.errors import FieldError, ValidationFailed
from stations.model import Station

__all__ = [
    "Analysis",
    "Candidates",
    "SYNTHETIC_DEMAND",
    "load_candidates",
    "reach_metres",
    "resolve_demand",
]

#: Grids larger than this would take minutes and gigabytes (a country at resolution 9).
MAX_GRID_CELLS = 3_000_000

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
        raise ValidationFailed([FieldError("radius_m", "give a radius or minutes, not both")])
    if minutes is not None:
        return minutes_to_metres(minutes, speed)
    value = default_m if radius_m is None else radius_m
    if not np.isfinite(value) or value <= 0:
        raise ValidationFailed(
            [FieldError("radius_m", "must be a number > 0", value, message_zh="必须大于 0")]
        )
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
                FieldError(
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
        raise ValidationFailed([FieldError("candidates", f"{path}: no candidate sites")])
    lon_a, lat_a = to_wgs84(np.array(lons), np.array(lats), crs)
    return Candidates(np.asarray(lon_a, float), np.asarray(lat_a, float), labels)


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
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def for_stations(
        cls,
        stations: Sequence[Station],
        *,
        area: str | Path | BaseGeometry | None = None,
        area_crs: str = "wgs84",
        **kwargs: Any,
    ) -> Analysis:
        """Only stations whose status is ``open`` count; the area defaults to E-Town's."""
        shape = area if isinstance(area, BaseGeometry) else load_area(area, crs=area_crs)
        open_only = [s for s in stations if s.data.status == "open"]
        return cls(open_only, shape, **kwargs)

    def _step(self, message: str) -> None:
        if self.progress is not None:
            self.progress(message)

    @property
    def lon(self) -> np.ndarray:
        return np.array([s.data.lon for s in self.stations], float)

    @property
    def lat(self) -> np.ndarray:
        return np.array([s.data.lat for s in self.stations], float)

    @property
    def grid(self) -> HexGrid:
        if "grid" not in self._cache:
            estimate = area_km2(self.area) / h3.average_hexagon_area(self.resolution, "km^2")
            if estimate > MAX_GRID_CELLS:
                raise ValidationFailed(
                    [
                        FieldError(
                            "resolution",
                            f"about {estimate:,.0f} H3 cells at resolution "
                            f"{self.resolution}; the limit is {MAX_GRID_CELLS:,}: use a coarser "
                            "resolution or a smaller area",
                            self.resolution,
                            message_zh="网格过多，请降低分辨率或缩小区域",
                        )
                    ]
                )
            self._step(f"H3 网格 grid (res {self.resolution})")
            self._cache["grid"] = hex_grid(self.area, self.resolution)
        return self._cache["grid"]

    @property
    def demand(self) -> Demand:
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
        if "coverage" not in self._cache:
            self._step("覆盖 coverage")
            self._cache["coverage"] = coverage(
                self.area,
                self.lon,
                self.lat,
                self.demand,
                self.radius_m,
                self.resolution,
                grid=self.grid,
            )
        return self._cache["coverage"]

    def gaps(self) -> list[Gap]:
        if "gaps" not in self._cache:
            self._step("空白区 gaps")
            self._cache["gaps"] = gaps(
                self.area,
                self.lon,
                self.lat,
                self.demand,
                self.radius_m,
                self.resolution,
                grid=self.grid,
                coverage_result=self._cache.get("coverage"),
            )
        return self._cache["gaps"]

    def candidates(self, given: Candidates | None) -> Candidates:
        if given is not None:
            return given
        lon, lat = default_candidates(
            self.area, self.lon, self.lat, self.demand, self.radius_m, self.resolution
        )
        if lon.size == 0:
            raise ValidationFailed(
                [
                    FieldError(
                        "candidates",
                        "every part of the area is already covered: no candidate sites",
                        message_zh="服务区已全部覆盖，没有候选点",
                    )
                ]
            )
        return Candidates(lon, lat, [f"H3 {i + 1}" for i in range(lon.size)])

    def plan(
        self, new_sites: int, candidates: Candidates | None = None, method: str = "auto"
    ) -> tuple[PlanResult, Candidates]:
        """The ``new_sites`` candidates that newly cover the most demand, ranked."""
        cands = self.candidates(candidates)
        if new_sites < 1:
            raise ValidationFailed([FieldError("new_sites", "must be at least 1", new_sites)])
        if new_sites > len(cands):
            raise ValidationFailed(
                [
                    FieldError(
                        "new_sites",
                        f"asks for {new_sites} sites but there are only {len(cands)} candidates",
                        new_sites,
                        message_zh="新增站点数超过候选点数",
                    )
                ]
            )
        self._step(f"选址 planning {new_sites} of {len(cands)} candidates")
        result = plan_sites(
            self.demand,
            self.lon,
            self.lat,
            cands.lon,
            cands.lat,
            self.radius_m,
            new_sites,
            method=method,
        )
        return result, cands

    def min_sites(
        self, target_share: float, candidates: Candidates | None = None, method: str = "auto"
    ) -> tuple[PlanResult, Candidates]:
        """The fewest candidates that bring demand coverage to ``target_share`` (0–1)."""
        if not 0 < target_share <= 1:
            raise ValidationFailed([FieldError("target_share", "must be in (0, 1]", target_share)])
        cands = self.candidates(candidates)
        self._step(f"最少站点 fewest sites for {target_share:.0%}")
        try:
            result = min_sites_for_coverage(
                self.demand,
                self.lon,
                self.lat,
                cands.lon,
                cands.lat,
                self.radius_m,
                target_share,
                method=method,
            )
        except GeodataError as exc:
            raise ValidationFailed(
                [FieldError(exc.field or "target_share", str(exc), target_share)]
            ) from exc
        return result, cands


def speed_presets() -> dict[str, float]:
    """Travel-speed presets in km/h (walk 4.5, ebike 15)."""
    return dict(SPEEDS_KMH)
