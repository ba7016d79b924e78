"""The reliability plot of an evaluation (PNG, matplotlib's non-interactive Agg backend)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def reliability_plot(report: dict[str, Any], path: Path) -> None:
    """Observed frequency against forecast: 1X2 (pooled) and over 2.5, beside Pinnacle closing.

    Bars are two binomial standard errors; a point's area grows with its bin's forecasts.
    """
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt

    calib = report["calibration"]
    run = report["run"]
    panels = (("1X2 (home, draw, away pooled)", calib["one_x_two"], calib["pinnacle_closing_one_x_two"]),
              ("over 2.5 goals", calib["over_25"], calib["pinnacle_closing_over_25"]))
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.2))
    for ax, (title, ours, pinnacle) in zip(axes, panels, strict=True):
        ax.plot([0, 1], [0, 1], color="0.6", linewidth=1, linestyle="--", label="perfect")
        if pinnacle:
            ax.plot([b["predicted"] for b in pinnacle["bins"]], [b["observed"] for b in pinnacle["bins"]],
                    marker="s", markersize=4, linewidth=1, color="tab:orange", label="Pinnacle closing")
        bins = ours["bins"]
        ax.errorbar([b["predicted"] for b in bins], [b["observed"] for b in bins],
                    yerr=[2 * b["standard_error"] for b in bins], fmt="none", ecolor="tab:blue",
                    alpha=0.6, capsize=3)
        ax.scatter([b["predicted"] for b in bins], [b["observed"] for b in bins],
                   s=[12 + b["n"] / 4 for b in bins], color="tab:blue", zorder=3,
                   label=f"model ({run['model']['name']}), ±2 SE")
        ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="forecast probability", ylabel="observed frequency",
               title=title)
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
    fig.suptitle(f"Reliability on {run['test']['file']} ({run['test']['season'] or '?'}), "
                 f"walk-forward; data © football-data.co.uk", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
