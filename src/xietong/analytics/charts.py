"""Chart images drawn on the server (matplotlib, Agg), for PDFs and exports that cannot run the
browser's charts: bars (grouped, optionally horizontal), lines of one or more series, and donuts.

Each function takes plain labels and numbers and returns PNG bytes; ``data_uri`` wraps them for an
``<img>`` in a WeasyPrint document, whose fetcher accepts ``data:`` URLs only (``xietong.pdf``).
Figures are built with the object API (``Figure`` plus an Agg canvas), never ``pyplot``, so no
global figure state is shared between requests and no GUI backend is ever loaded. Nothing is
downloaded: the CJK font is the same Debian file WeasyPrint uses."""

from __future__ import annotations

import base64
import io
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from xietong.pdf import CJK_FONT

DPI = 150
# Sober colours that survive grey-scale printing: the current series dark, the comparison light.
PALETTE = ("#1f4e79", "#9db4cc", "#c0504d", "#e6a23c", "#5b8c5a", "#7f6a93", "#4bacc6", "#a5a5a5")
HIGHLIGHT = "#c0504d"
LINE_COLOURS = ("#1f4e79", "#8a9bb0", "#c0504d", "#e6a23c", "#5b8c5a")
FONT_FAMILY = "WenQuanYi Zen Hei"
# rc_context changes matplotlib's global settings for its duration: two threads drawing at once
# could restore each other's defaults mid-figure, so charts are drawn one at a time.
_lock = threading.RLock()
_font_ready: list[bool] = []


def _rc() -> Any:
    """matplotlib settings for one chart: the CJK font (registered once) and a quiet style."""
    with _lock:
        if not _font_ready:
            from matplotlib import font_manager

            if CJK_FONT.exists():
                font_manager.fontManager.addfont(str(CJK_FONT))
            _font_ready.append(True)
    return {
        "font.family": "sans-serif",
        "font.sans-serif": [FONT_FAMILY, "DejaVu Sans"],
        "axes.unicode_minus": False,  # the CJK font has no U+2212
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 10,
        # The font has one weight (500); asking for "normal" or "bold" only logs a fallback warning.
        "font.weight": 500,
        "axes.titleweight": 500,
        "axes.labelweight": 500,
        "legend.frameon": False,
    }


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _render(draw: Any, *, width: float, height: float) -> bytes:
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with _lock, rc_context(_rc()):
        fig = Figure(figsize=(width, height), dpi=DPI)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        draw(fig, ax)
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def _as_series(
    values: Mapping[str, Sequence[float | None]] | Sequence[float | None],
) -> dict[str, list[float]]:
    if isinstance(values, Mapping):
        return {name: [float(v or 0) for v in seq] for name, seq in values.items()}
    return {"": [float(v or 0) for v in values]}


def _number(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}" if decimals else f"{round(value)}"


def _unit_on_top(ax: Any, unit: str) -> None:
    """The unit above the value axis, upright (a rotated 件 or 天 reads badly)."""
    if unit:
        ax.annotate(
            f"（{unit}）", xy=(0, 1.02), xycoords="axes fraction", ha="right", va="bottom", fontsize=8
        )


def _legend_on_top(ax: Any, columns: int) -> None:
    """The legend in one row above the plot, where it never hides a bar or a point."""
    ax.legend(fontsize=8, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=columns, borderaxespad=0.2)


def bar(
    labels: Sequence[str],
    values: Mapping[str, Sequence[float | None]] | Sequence[float | None],
    *,
    title: str = "",
    unit: str = "",
    horizontal: bool = False,
    highlight: Sequence[int] = (),
    decimals: int = 0,
    width: float = 6.4,
    height: float = 3.2,
    value_labels: bool = True,
) -> bytes:
    """Bars per label; ``values`` is one series or ``{series name: values}`` (grouped bars, legend).
    ``highlight`` colours those label positions of a single series. Horizontal bars list the first
    label at the top, so pass them in reading order (largest first for a ranking)."""
    series = _as_series(values)
    n, k = len(labels), max(len(series), 1)

    def draw(fig: Any, ax: Any) -> None:
        span = 0.8 / k
        marked = set(highlight)
        for i, (name, seq) in enumerate(series.items()):
            offsets = [p - 0.4 + span * (i + 0.5) for p in range(n)]
            colours: Any = PALETTE[i % len(PALETTE)]
            if k == 1 and marked:
                colours = [HIGHLIGHT if p in marked else PALETTE[0] for p in range(n)]
            if horizontal:
                bars = ax.barh(offsets, seq, height=span * 0.9, color=colours, label=name or None)
            else:
                bars = ax.bar(offsets, seq, width=span * 0.9, color=colours, label=name or None)
            if value_labels and n * k <= 40:
                ax.bar_label(bars, labels=[_number(v, decimals) for v in seq], padding=2, fontsize=7)
        if horizontal:
            ax.set_yticks(range(n), labels=list(labels))
            ax.invert_yaxis()
            ax.set_xlabel(unit)
            ax.margins(x=0.12)
        else:
            ax.set_xticks(range(n), labels=list(labels))
            _unit_on_top(ax, unit)
            ax.margins(y=0.12)
            if n > 8 and max((len(s) for s in labels), default=0) > 3:
                for tick in ax.get_xticklabels():
                    tick.set_rotation(35)
                    tick.set_ha("right")
        if title:
            ax.set_title(title)
        if k > 1:
            _legend_on_top(ax, k)

    return _render(draw, width=width, height=height)


def line(
    labels: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    title: str = "",
    unit: str = "",
    decimals: int = 0,
    width: float = 6.4,
    height: float = 3.0,
    value_labels: bool = True,
) -> bytes:
    """One line per series over the same labels (e.g. this year's months against last year's); a
    ``None`` value leaves a gap (a month not yet reached), not a drop to zero."""

    def draw(fig: Any, ax: Any) -> None:
        for i, (name, seq) in enumerate(series.items()):
            xs = [p for p, v in enumerate(seq) if v is not None]
            ys = [float(v) for v in seq if v is not None]
            colour = LINE_COLOURS[i % len(LINE_COLOURS)]
            style = "-" if i == 0 else "--"
            ax.plot(
                xs,
                ys,
                style,
                marker="o",
                markersize=3.5,
                linewidth=1.8 if i == 0 else 1.3,
                color=colour,
                label=name,
            )
            if value_labels and i == 0:
                for x, y in zip(xs, ys, strict=True):
                    ax.annotate(_number(y, decimals), (x, y), textcoords="offset points", xytext=(0, 5),
                                ha="center", fontsize=7, color=colour)  # fmt: skip
        ax.set_xticks(range(len(labels)), labels=list(labels))
        _unit_on_top(ax, unit)
        ax.set_ylim(bottom=0)
        ax.margins(y=0.15)
        ax.grid(axis="y", linewidth=0.4, alpha=0.6)
        if title:
            ax.set_title(title)
        if len(series) > 1:
            _legend_on_top(ax, len(series))

    return _render(draw, width=width, height=height)


def donut(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str = "",
    width: float = 4.6,
    height: float = 3.0,
    centre: str = "",
) -> bytes:
    """Shares of a whole as a ring, with the percentage on each slice of at least 4 % and the
    labels in a legend beside it; ``centre`` is written in the hole (e.g. the total)."""
    pairs = [(label, float(v)) for label, v in zip(labels, values, strict=True) if v]

    def draw(fig: Any, ax: Any) -> None:
        if not pairs:
            ax.text(0.5, 0.5, "无数据", ha="center", va="center")
            ax.set_axis_off()
            return
        total = sum(v for _, v in pairs)
        wedges, _texts, autotexts = ax.pie(
            [v for _, v in pairs],
            colors=[PALETTE[i % len(PALETTE)] for i in range(len(pairs))],
            startangle=90,
            counterclock=False,
            wedgeprops={"width": 0.42, "edgecolor": "white", "linewidth": 1},
            autopct=lambda pct: f"{pct:.1f}%" if pct >= 4 else "",
            pctdistance=0.79,
            textprops={"fontsize": 7},
        )
        for i, text in enumerate(autotexts):
            text.set_color("white" if i % len(PALETTE) in (0, 2, 5) else "#222")
        ax.legend(
            wedges,
            [f"{label} {v / total * 100:.1f}%" for label, v in pairs],
            loc="center left",
            bbox_to_anchor=(1.0, 0.5),
            fontsize=8,
        )
        if centre:
            ax.text(0, 0, centre, ha="center", va="center", fontsize=9)
        ax.set_aspect("equal")
        if title:
            ax.set_title(title)

    return _render(draw, width=width, height=height)
