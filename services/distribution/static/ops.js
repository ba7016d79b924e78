// SportsFeed operations page: the platform's key series from Prometheus, through
// distribution's read-only proxy (/v1/ops/panels, /v1/ops/series/{panel}, /v1/ops/targets;
// services/distribution/rest/ops.py). Plain JS and SVG, no build step.
(() => {
  "use strict";

  const COLORS = ["#f5b301", "#4fa8ff", "#1fbf75", "#ff5c5c", "#b37cff", "#30c5d2", "#ff9f43",
    "#e056a0", "#9aa5b1", "#7bd389"];
  const REFRESH_MS = 5000;
  const W = 600, H = 150, PAD = { l: 44, r: 8, t: 8, b: 18 };

  const params = new URLSearchParams(location.search);
  const state = {
    minutes: Number(params.get("minutes")) || 15,
    panels: [],                 // the catalogue
    series: new Map(),          // panel id -> [{label, points}]
    errors: new Map(),          // panel id -> message
    targets: [], prometheus: null, refreshes: 0, lastOk: null,
  };
  window.sportsfeedOps = state; // for the browser test and for the curious

  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

  function fmt(value, unit) {
    if (value === null || value === undefined || Number.isNaN(value)) return "–";
    if (unit === "s") {
      if (value < 1) return `${(value * 1000).toFixed(value < 0.01 ? 2 : 0)} ms`;
      return `${value.toFixed(value < 10 ? 2 : 0)} s`;
    }
    const abs = Math.abs(value);
    if (abs >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
    if (abs >= 1e4) return `${(value / 1e3).toFixed(1)}k`;
    if (abs >= 100 || Number.isInteger(value)) return value.toFixed(0);
    return value.toFixed(abs < 1 ? 3 : 1);
  }

  async function getJson(url) {
    const response = await fetch(url, { cache: "no-store", headers: await window.sportsfeedKey.headers() });
    if (response.status === 401) {
      window.sportsfeedKey.renew("The feed refused the key: enter another.");
      throw new Error("the key was refused");
    }
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.detail || `HTTP ${response.status}`);
    return body;
  }

  function setProm(kind, label) {
    $("prom").dataset.state = kind;
    $("prom-label").textContent = label;
  }

  // ---- charts -------------------------------------------------------------------------

  function chart(panel, lines) {
    const pts = lines.flatMap((l) => l.points.filter((p) => p[1] !== null));
    if (!pts.length) return null;
    const now = Date.now() / 1000;
    const t0 = now - state.minutes * 60, t1 = now;
    let lo = Math.min(0, ...pts.map((p) => p[1]));
    let hi = Math.max(...pts.map((p) => p[1]));
    if (hi <= lo) hi = lo + 1;
    const x = (t) => PAD.l + ((t - t0) / (t1 - t0)) * (W - PAD.l - PAD.r);
    const y = (v) => H - PAD.b - ((v - lo) / (hi - lo)) * (H - PAD.t - PAD.b);
    const grid = [lo, (lo + hi) / 2, hi].map((v) =>
      `<line class="grid" x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}"/>` +
      `<text class="axis" x="${PAD.l - 4}" y="${(y(v) + 3).toFixed(1)}" text-anchor="end">${esc(fmt(v, panel.unit))}</text>`).join("");
    const ticks = [t0, (t0 + t1) / 2, t1].map((t, i) => {
      const label = new Date(t * 1000).toISOString().slice(11, 16);
      const anchor = ["start", "middle", "end"][i];
      return `<text class="axis" x="${x(t).toFixed(1)}" y="${H - 4}" text-anchor="${anchor}">${label}</text>`;
    }).join("");
    const paths = lines.map((line, i) => {
      let d = "", pen = false;
      for (const [t, v] of line.points) {
        if (v === null || t < t0) { pen = false; continue; }
        d += `${pen ? "L" : "M"}${x(t).toFixed(1)},${y(v).toFixed(1)}`;
        pen = true;
      }
      return d ? `<path class="series" data-series="${esc(line.label)}" stroke="${COLORS[i % COLORS.length]}" d="${d}"/>` : "";
    }).join("");
    return `<svg class="chart" viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" data-panel-chart="${esc(panel.id)}">${grid}${ticks}${paths}</svg>`;
  }

  function legend(panel, lines) {
    return `<div class="legend">${lines.map((line, i) => {
      const last = [...line.points].reverse().find((p) => p[1] !== null);
      return `<span class="item" data-series="${esc(line.label)}"><span class="swatch" style="background:${COLORS[i % COLORS.length]}"></span>` +
        `${esc(line.label)} <span class="val">${esc(fmt(last ? last[1] : null, panel.unit))}</span></span>`;
    }).join("")}</div>`;
  }

  function renderPanel(panel) {
    const el = document.querySelector(`.panel[data-panel="${CSS.escape(panel.id)}"]`);
    if (!el) return;
    const error = state.errors.get(panel.id);
    const lines = state.series.get(panel.id) || [];
    const svg = error ? null : chart(panel, lines);
    el.dataset.state = error ? "error" : svg ? "data" : "empty";
    el.dataset.series = String(lines.length);
    el.querySelector(".body").innerHTML = svg
      ? svg + legend(panel, lines)
      : `<div class="empty">${esc(error || "no data yet in this window")}</div>`;
  }

  function renderSkeleton() {
    $("panels").innerHTML = state.panels.map((p) =>
      `<article class="panel" data-panel="${esc(p.id)}" data-state="loading">` +
      `<h3><span>${esc(p.title)}</span><span class="unit">${esc(p.unit)}</span></h3>` +
      `<div class="body"><div class="empty">loading…</div></div></article>`).join("");
  }

  function renderTargets() {
    const up = state.targets.filter((t) => t.health === "up").length;
    $("targets-note").textContent = `${up} of ${state.targets.length} up`;
    $("targets").innerHTML = state.targets.map((t) =>
      `<span class="target" data-job="${esc(t.job)}" data-service="${esc(t.service)}" data-health="${esc(t.health)}" title="${esc(t.error || t.url)}">` +
      `<span class="dot"></span>${esc(t.service || t.job)} <span class="job">${esc(t.health)}</span></span>`).join("");
  }

  // ---- refresh ------------------------------------------------------------------------

  async function refreshPanels() {
    await Promise.all(state.panels.map(async (panel) => {
      try {
        const body = await getJson(`/v1/ops/series/${encodeURIComponent(panel.id)}?minutes=${state.minutes}`);
        state.series.set(panel.id, body.series);
        state.errors.delete(panel.id);
      } catch (err) {
        state.errors.set(panel.id, String(err.message || err));
      }
      renderPanel(panel);
    }));
  }

  async function refreshTargets() {
    try {
      const body = await getJson("/v1/ops/targets");
      state.targets = body.targets;
      state.lastOk = Date.now();
      setProm("open", `Prometheus · ${body.up}/${body.targets.length} up`);
      renderTargets();
    } catch (err) {
      setProm("closed", "Prometheus unreachable");
      $("targets-note").textContent = String(err.message || err);
    }
  }

  async function refresh() {
    await Promise.all([refreshTargets(), refreshPanels()]);
    state.refreshes += 1;
    $("updated").textContent = new Date().toISOString().slice(11, 19) + "Z";
  }

  async function start() {
    for (const tab of document.querySelectorAll(".tab[data-minutes]")) {
      tab.setAttribute("aria-selected", String(Number(tab.dataset.minutes) === state.minutes));
      tab.addEventListener("click", () => {
        state.minutes = Number(tab.dataset.minutes);
        for (const t of document.querySelectorAll(".tab[data-minutes]")) {
          t.setAttribute("aria-selected", String(t === tab));
        }
        refreshPanels();
      });
    }
    const { info } = await window.sportsfeedKey.ready;
    if (!window.sportsfeedKey.allows(info, "metrics")) {
      setProm("closed", "the key has no metrics view");
      return;
    }
    try {
      const catalogue = await getJson("/v1/ops/panels");
      state.panels = catalogue.panels;
      state.prometheus = catalogue.prometheus;
      $("prom-url").textContent = catalogue.prometheus;
    } catch (err) {
      setProm("closed", "no panels");
      return;
    }
    renderSkeleton();
    await refresh();
    setInterval(refresh, REFRESH_MS);
  }

  start();
})();
