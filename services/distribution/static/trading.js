// SportsFeed paper-trading panel: each strategy's figures, bankroll curve and open bets,
// from /v1/trading/performance and /v1/trading/bets, refreshed every few seconds, with
// the page's consumer key (key.js). Plain JS, no build step; separate from app.js (the
// live board).
(() => {
  "use strict";

  const REFRESH_MS = 5000;
  const OPEN_BETS_SHOWN = 8;
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  const state = { strategies: [], open: new Map(), loaded: 0, error: null };
  window.sportsfeedTrading = state; // for the browser test and for the curious

  const money = (s) => Number(s).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const pct = (x) => (x == null ? "–" : `${x >= 0 ? "+" : ""}${(x * 100).toFixed(2)} %`);
  const sign = (x) => (x == null || x === 0 ? "" : x > 0 ? "pos" : "neg");

  async function getJson(path) {
    const response = await fetch(path, { cache: "no-store", headers: await window.sportsfeedKey.headers() });
    if (response.status === 401) {
      window.sportsfeedKey.renew("The feed refused the key: enter another.");
      throw new Error("the key was refused");
    }
    if (response.status === 403) throw new Error("this key does not cover paper trading");
    if (!response.ok) throw new Error(`${path}: ${response.status}`);
    return response.json();
  }

  async function refresh() {
    const { info } = await window.sportsfeedKey.ready;
    if (!window.sportsfeedKey.allows(info, "trading")) {
      state.error = `key ${info.name} does not cover paper trading`;
      render();
      return;
    }
    try {
      const perf = await getJson("/v1/trading/performance?points=150");
      const open = await getJson("/v1/trading/bets?status=open&limit=200");
      state.strategies = perf.strategies;
      state.open = new Map(perf.strategies.map((s) => [s.name, []]));
      for (const bet of open.bets) (state.open.get(bet.strategy) || []).push(bet);
      state.loaded++; state.error = null;
    } catch (err) {
      state.error = String(err);
    }
    render();
  }

  function curve(s) {
    const points = s.series.map((p) => Number(p.equity));
    if (points.length < 2) return `<div class="curve-empty" data-curve="${esc(s.name)}">no settled bets yet</div>`;
    const base = Number(s.bankroll);
    const lo = Math.min(base, ...points), hi = Math.max(base, ...points);
    const span = hi - lo || 1, w = 400, h = 90, pad = 6;
    const x = (i) => (i / (points.length - 1)) * w;
    const y = (v) => pad + (1 - (v - lo) / span) * (h - 2 * pad);
    const path = points.map((v, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join("");
    return `<svg class="curve" data-curve="${esc(s.name)}" viewBox="0 0 ${w} ${h}" preserveAspectRatio="none"
      role="img" aria-label="bankroll of ${esc(s.name)}">
      <line class="base" x1="0" x2="${w}" y1="${y(base).toFixed(1)}" y2="${y(base).toFixed(1)}"></line>
      <path class="line" d="${path}"></path></svg>`;
  }

  function figure(label, value, cls = "", wide = false) {
    return `<div class="figure${wide ? " wide" : ""}"><span class="k">${label}</span><span class="v ${cls}">${esc(value)}</span></div>`;
  }

  function betRow(bet) {
    const match = bet.event ? `${bet.event.home} v ${bet.event.away}` : bet.event_id;
    return `<tr data-bet="${bet.id}"><td title="${esc(bet.event_id)}">${esc(match)}</td>
      <td>${esc(bet.market_key)}</td><td>${esc(bet.outcome_id)}</td>
      <td class="num">${esc(bet.price)}</td><td class="num">${money(bet.stake)}</td>
      <td class="num">${pct(bet.expected_value)}</td></tr>`;
  }

  function card(s) {
    const p = s.performance;
    const open = state.open.get(s.name) || [];
    const rows = open.slice(0, OPEN_BETS_SHOWN).map(betRow).join("");
    const more = open.length > OPEN_BETS_SHOWN ? `<tr><td colspan="6">… ${open.length - OPEN_BETS_SHOWN} more</td></tr>` : "";
    return `<div class="strategy" data-strategy="${esc(s.name)}">
      <h3>${esc(s.name)} <span class="kind">${esc(s.kind.replace("_", " "))}</span></h3>
      <div class="figures">
        ${figure("bankroll", money(s.equity), sign(Number(s.equity) - Number(s.bankroll)))}
        ${figure("available", money(s.balance))}
        ${figure("P/L", money(p.profit), sign(Number(p.profit)))}
        ${figure("ROI", pct(p.roi), sign(p.roi))}
        ${figure("yield", pct(p.yield), sign(p.yield))}
        ${figure("hit rate", pct(p.hit_rate).replace("+", ""))}
        ${figure("max drawdown", money(p.max_drawdown))}
        ${figure("CLV", pct(p.clv.mean), sign(p.clv.mean))}
        ${figure("bets", `${p.settled} settled · ${p.open_bets} open`, "", true)}
      </div>
      ${curve(s)}
      <table class="open-bets"><thead><tr><th>match</th><th>market</th><th>outcome</th>
        <th>price</th><th>stake</th><th>EV</th></tr></thead>
        <tbody>${rows || `<tr><td colspan="6" class="none">no open bets</td></tr>`}${more}</tbody></table>
    </div>`;
  }

  function render() {
    const root = $("strategies");
    if (!root) return;
    $("trading-note").textContent = state.error
      ? `unavailable (${state.error})`
      : `${state.strategies.length} strategies · paper money · updated ${new Date().toLocaleTimeString()}`;
    const html = state.strategies.map(card).join("")
      || `<p class="empty">No strategies yet: the trading service registers them when it starts.</p>`;
    if (root._html !== html) { root.innerHTML = html; root._html = html; }
  }

  refresh();
  setInterval(refresh, REFRESH_MS);
})();
