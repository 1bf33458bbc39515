"""Geometry for the dashboard's charts, drawn as SVG by the template (no JavaScript, no
CDN): a bar per period for the tickets created with a line for the median first
response, and a weekday-by-hour heat map."""

from __future__ import annotations

from dataclasses import dataclass

from helpdesk.services.kpis import TrendPoint

WIDTH, HEIGHT, MARGIN = 720, 180, 28
#: Heat-map cells are coloured in this many steps (CSS classes heat-0 .. heat-5).
HEAT_STEPS = 5


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


@dataclass(frozen=True)
class TrendChart:
    width: int
    height: int
    bars: list[Bar]
    line: str  # SVG polyline points of the median first response (business hours)
    max_tickets: int
    max_median: float | None
    labels: list[tuple[float, str]]  # (x, text) under some bars


def trend_chart(points: list[TrendPoint]) -> TrendChart:
    plot_w, plot_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN
    count = max(len(points), 1)
    step = plot_w / count
    most = max((p.tickets for p in points), default=0) or 1
    medians = [p.first_response_bh_median for p in points]
    slowest = max((m for m in medians if m is not None), default=None)
    bars, line = [], []
    every = max(1, count // 8)  # at most about eight labels
    labels = []
    for i, point in enumerate(points):
        height = plot_h * point.tickets / most
        x = MARGIN + i * step
        top = round(MARGIN + plot_h - height, 1)
        width = round(step * 0.8, 1)
        bars.append(Bar(round(x + step * 0.1, 1), top, width, round(height, 1), point.period,
                        point.tickets))  # fmt: skip
        median = point.first_response_bh_median
        if median is not None and slowest:
            y = MARGIN + plot_h - plot_h * median / slowest
            line.append(f"{x + step / 2:.1f},{y:.1f}")
        if i % every == 0:
            labels.append((round(x + step / 2, 1), point.period[5:] if len(point.period) == 10
                           else point.period))  # fmt: skip
    return TrendChart(WIDTH, HEIGHT, bars, " ".join(line), most if points else 0, slowest,
                      labels)  # fmt: skip


@dataclass(frozen=True)
class HeatCell:
    x: int
    y: int
    weekday: int
    hour: int
    count: int
    level: int  # 0 (none) .. HEAT_STEPS


def heat_cells(grid: list[list[int]], size: int = 24) -> list[HeatCell]:
    most = max((n for row in grid for n in row), default=0)
    cells = []
    for weekday, row in enumerate(grid):
        for hour, count in enumerate(row):
            level = 0 if not count else max(1, round(HEAT_STEPS * count / most))
            cells.append(HeatCell(60 + hour * size, 20 + weekday * size, weekday, hour,
                                  count, level))  # fmt: skip
    return cells
