// SportsFeed trading page: one WebSocket, snapshots then deltas applied by version, and
// the platform's own fair prices (model frames) beside the market's. Plain JS, no build
// step. The protocol is in docs/websocket.md; the consumer key comes from key.js and goes
// in the first message (never in a URL).
(() => {
  "use strict";

  const SPORTS = [
    ["football", "Football"], ["basketball", "Basketball"],
    ["tennis", "Tennis"], ["ice_hockey", "Ice hockey"],
  ];
  // The main markets of each sport (the types in shared/rules), left to right.
  const MAIN = { football: "1x2", ice_hockey: "1x2", basketball: "moneyline", tennis: "moneyline" };
  const MARKET_TYPES = ["1x2", "moneyline", "totals", "handicap"];
  const OUTCOMES = {
    "1x2": [["home", "1"], ["draw", "X"], ["away", "2"]],
    moneyline: [["home", "1"], ["away", "2"]],
    totals: [["over", "Over"], ["under", "Under"]],
    handicap: [["home", "1"], ["away", "2"]],
  };
  const LIVE = new Set(["live", "suspended", "interrupted"]);
  const ENDED = new Set(["ended", "closed", "cancelled", "abandoned"]);
  const FLASH_MS = 1600;

  const params = new URLSearchParams(location.search);
  const state = {
    events: new Map(),      // event id -> {id, sport, version, status, fixture, live, markets, at}
    models: new Map(),      // event id -> the latest model frame (fair prices by market key)
    open: null,             // the event shown in the detail panel
    sport: params.get("sport") || "football",
    ws: null, connected: false, backoff: 500, lastMessage: 0, heartbeatS: 5,
    resyncing: new Set(),
    flashes: new Map(),     // "event|market|outcome" -> {dir, until}
    received: { snapshot: 0, delta: 0, heartbeat: 0, model: 0 },
    url: null,
    access: null,           // {key, info}: the consumer key and what it allows (key.js)
    sports: SPORTS,         // the tabs: the sports the key covers
  };
  window.sportsfeed = state; // for the browser test and for the curious

  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

  // ---- connection ---------------------------------------------------------------------

  async function wsUrl() {
    if (params.get("ws")) return params.get("ws");
    let port = 4003, url = null;
    try {
      const cfg = await (await fetch("/config.json", { cache: "no-store" })).json();
      port = cfg.ws_port || port; url = cfg.ws_url; state.heartbeatS = cfg.heartbeat_s || 5;
    } catch (e) { /* the defaults will do */ }
    if (url) return url;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    return `${scheme}://${location.hostname || "127.0.0.1"}:${port}/`;
  }

  function setConn(kind, label) {
    $("conn").dataset.state = kind;
    $("conn-label").textContent = label;
  }

  function useKey(access) {
    state.access = access;
    const covered = access.info.sports;
    state.sports = SPORTS.filter(([id]) => !covered || covered.includes(id));
    if (!state.sports.some(([id]) => id === state.sport) && state.sports.length) state.sport = state.sports[0][0];
    $("tabs").replaceChildren();
    render();
  }

  async function connect() {
    setConn("connecting", "connecting…");
    const access = await window.sportsfeedKey.ready;
    if (state.access !== access) useKey(access);
    state.url = state.url || await wsUrl();
    $("ws-url").textContent = state.url;
    const ws = new WebSocket(state.url);
    state.ws = ws;
    ws.onmessage = (e) => {
      state.lastMessage = Date.now();
      let msg;
      try { msg = JSON.parse(e.data); } catch (err) { return; }
      onMessage(msg);
    };
    ws.onclose = (e) => {
      if (state.ws !== ws) return;
      state.connected = false;
      if (e.code === 4001 || e.code === 4003) {
        // The key was refused (revoked, or its scopes changed): ask for another.
        setConn("closed", `key refused · ${e.reason}`);
        window.sportsfeedKey.renew(`The feed refused the key (${e.reason}): enter another.`);
        connect();
        return;
      }
      const why = e.code === 4029 ? `${e.reason} · ` : "";
      setConn("closed", `offline · ${why}retrying in ${Math.round(state.backoff / 100) / 10}s`);
      setTimeout(connect, state.backoff);
      state.backoff = Math.min(state.backoff * 2, 10000);
    };
  }

  function send(msg) {
    if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(msg));
  }

  function subscribe() {
    // After a reconnect, resume every event we hold: the server replays the missed
    // deltas, or sends a snapshot when they are no longer retained.
    const resume = {};
    for (const ev of state.events.values()) resume[ev.id] = ev.version;
    // The first message carries the key; the subscription asks for what the key covers.
    const msg = { type: "subscribe", id: "board", sports: state.sports.map((s) => s[0]),
                  markets: MARKET_TYPES, resume, model: withModel() };
    if (state.access.key) msg.token = state.access.key;
    send(msg);
    if (state.open) follow(state.open);
  }

  function withModel() {
    return window.sportsfeedKey.allows(state.access.info, "predictions");
  }

  // The detail panel's event is followed by a subscription of its own with no market
  // filter: the server then sends a fresh snapshot (and model prices) with every market.
  function follow(id) {
    send({ type: "subscribe", id: "detail", event_ids: [id], model: withModel() });
  }

  // ---- messages -----------------------------------------------------------------------

  function onMessage(msg) {
    switch (msg.type) {
      case "welcome":
        state.connected = true; state.backoff = 500; state.heartbeatS = msg.heartbeat_s || 5;
        state.resyncing.clear();
        setConn("open", "live");
        subscribe();
        break;
      case "snapshot": state.received.snapshot++; applySnapshot(msg); break;
      case "delta": state.received.delta++; applyDelta(msg); break;
      case "model": state.received.model++; applyModel(msg); break;
      case "heartbeat":
        state.received.heartbeat++;
        $("server-time").textContent = (msg.ts || "").replace("T", " ").replace(/\.\d+Z$/, "Z");
        break;
      case "error": console.warn("sportsfeed:", msg); break;
      default: break;
    }
  }

  function flashChanges(ev, markets) {
    const now = Date.now();
    for (const m of markets) {
      const old = ev && ev.markets[m.market_key];
      if (!old) continue;
      for (const o of m.outcomes || []) {
        const before = (old.outcomes || []).find((x) => x.id === o.id);
        if (!before || before.price == null || o.price == null) continue;
        const a = parseFloat(before.price), b = parseFloat(o.price);
        if (a !== b) state.flashes.set(`${ev.id}|${m.market_key}|${o.id}`, { dir: b > a ? "up" : "down", until: now + FLASH_MS });
      }
    }
    setTimeout(render, FLASH_MS + 50);
  }

  function applySnapshot(msg) {
    const prev = state.events.get(msg.event_id);
    const ev = {
      id: msg.event_id, sport: msg.sport, version: msg.version, status: msg.status || "not_started",
      fixture: msg.fixture || {}, live: msg.live || null, markets: msg.markets || {}, at: Date.now(),
    };
    if (prev) flashChanges(prev, Object.values(ev.markets));
    state.events.set(ev.id, ev);
    state.resyncing.delete(ev.id);
    schedule();
  }

  function applyModel(msg) {
    const held = state.models.get(msg.event_id);
    if (held && held.event_version > msg.event_version) return;  // an older price, late
    const markets = {};
    for (const m of msg.markets || []) {
      const outcomes = {};
      for (const o of m.outcomes || []) outcomes[o.id] = o;
      markets[m.market_key] = outcomes;
    }
    // A frame filtered to the board's markets must not hide the detail's other markets.
    const merged = held && held.event_version === msg.event_version
      ? { ...held.markets, ...markets } : markets;
    state.models.set(msg.event_id, { ...msg, markets: merged });
    schedule();
  }

  // The model's view of one outcome: {probability, fair_price, price} or undefined.
  function fairOf(eventId, marketKey, outcomeId) {
    const model = state.models.get(eventId);
    const market = model && model.markets[marketKey];
    return market && market[outcomeId];
  }

  // A market price above the fair price is value: betting it has positive expectation.
  // Only a price that can be taken counts: a suspended market's last price is stale.
  function isValue(price, fair, open) {
    return open && price != null && fair && fair.fair_price != null
      && parseFloat(price) > parseFloat(fair.fair_price);
  }

  function resync(id) {
    if (state.resyncing.has(id)) return;
    state.resyncing.add(id);
    send({ type: "resync", event_ids: [id] });
  }

  function applyDelta(msg) {
    const ev = state.events.get(msg.event_id);
    if (!ev) { resync(msg.event_id); return; }
    const from = msg.from_version ?? msg.version;
    if (msg.version <= ev.version) return;                       // already applied
    if (from !== ev.version + 1) { resync(ev.id); return; }      // a gap: fresh snapshot
    flashChanges(ev, msg.markets || []);
    if (msg.status) ev.status = msg.status;
    if (msg.fixture) ev.fixture = msg.fixture;
    if (msg.live) { ev.live = msg.live; ev.at = Date.now(); }
    for (const m of msg.markets || []) ev.markets[m.market_key] = m;
    ev.version = msg.version;
    schedule();
  }

  // ---- rendering ----------------------------------------------------------------------

  let pending = false;
  function schedule() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; render(); });
  }

  function columns(sport) {
    const main = MAIN[sport] || "moneyline";
    return [[main, main === "1x2" ? "1X2" : "Winner"], ["totals", "Total"], ["handicap", "Handicap"]];
  }

  function mainLine(ev, type) {
    const all = Object.values(ev.markets).filter((m) => m.market_key === type || m.market_key.startsWith(type + "|"));
    if (all.length <= 1) return all[0];
    const spread = (m) => {
      const p = (m.outcomes || []).map((o) => parseFloat(o.price)).filter((x) => !isNaN(x));
      return p.length === 2 ? Math.abs(p[0] - p[1]) : 99;
    };
    const open = all.filter((m) => m.status === "active");
    return (open.length ? open : all).sort((a, b) => spread(a) - spread(b) || a.market_key.localeCompare(b.market_key))[0];
  }

  function clockText(ev) {
    const live = ev.live;
    if (!live || !live.clock) return "";
    let s = live.clock.seconds;
    if (live.clock.running && LIVE.has(ev.status)) s += Math.floor((Date.now() - ev.at) / 1000);
    if (ev.sport === "football") {
      const stoppage = live.clock.stoppage_seconds ? `+${Math.ceil(live.clock.stoppage_seconds / 60)}` : "";
      return `${Math.floor(s / 60) + 1}'${stoppage}`;
    }
    return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
  }

  function periodText(p) {
    if (!p) return "";
    const names = { "1h": "1st half", "2h": "2nd half", pen: "Pens", so: "Shoot-out" };
    if (names[p]) return names[p];
    const m = /^([a-z]+)(\d+)$/.exec(p);
    if (!m) return p.toUpperCase();
    return m[1] === "set" ? `Set ${m[2]}` : `${m[1].toUpperCase()}${m[2]}`;
  }

  function whenCell(ev) {
    if (LIVE.has(ev.status)) {
      const label = ev.status === "live" ? "Live" : ev.status;
      return `<span class="pill live">${esc(label)}</span>
        <span class="clock" data-clock="${esc(ev.id)}">${esc(periodText(ev.live && ev.live.period))} ${esc(clockText(ev))}</span>`;
    }
    if (ENDED.has(ev.status)) return `<span class="pill ended">${esc(ev.status)}</span>`;
    const t = ev.fixture.start_time ? new Date(ev.fixture.start_time) : null;
    const time = t ? t.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "–";
    const day = t ? t.toLocaleDateString([], { day: "numeric", month: "short" }) : "";
    return `<span class="pill">${esc(ev.status.replace("_", " "))}</span><span class="start">${esc(day)} ${esc(time)}</span>`;
  }

  function scoreCell(ev) {
    const s = ev.live && ev.live.score;
    if (!s) return `<span>–</span><span>–</span>`;
    const game = ev.live.game;
    const extra = game ? `<span class="game">${esc(game.home)}-${esc(game.away)}</span>` : "";
    return `<span>${esc(s.home)}</span><span>${esc(s.away)}</span>${extra}`;
  }

  function marketCell(ev, type) {
    const m = mainLine(ev, type);
    const spec = OUTCOMES[type] || [];
    const line = m && m.market_key.includes("=") ? m.market_key.split("=").pop() : "";
    const now = Date.now();
    const cells = spec.map(([oid, label]) => {
      const o = m && (m.outcomes || []).find((x) => x.id === oid);
      const price = o && o.price != null ? o.price : null;
      const suspended = m && (m.status !== "active" || (o && o.active === false));
      const flash = m && state.flashes.get(`${ev.id}|${m.market_key}|${oid}`);
      const cls = ["price", price == null ? "na" : "", suspended ? "suspended" : "",
                   flash && flash.until > now ? flash.dir : ""].filter(Boolean).join(" ");
      const fair = m && fairOf(ev.id, m.market_key, oid);
      const value = isValue(price, fair, !suspended);
      const fairText = fair && fair.fair_price != null
        ? `<span class="fair${value ? " value" : ""}" title="fair price (model): ${esc(pct(fair.probability))}${value ? " · value" : ""}">${esc(fair.fair_price)}</span>`
        : "";
      return `<div class="${cls}" data-market="${esc(m ? m.market_key : type)}" data-outcome="${oid}" data-price="${esc(price ?? "")}" data-fair="${esc(fair && fair.fair_price != null ? fair.fair_price : "")}" data-value="${value ? "1" : ""}">
        <span class="oc">${label}</span><span class="val">${esc(price ?? "–")}</span>${fairText}</div>`;
    });
    return `<div class="market" data-type="${type}"><span class="line">${esc(line)}</span>${cells.join("")}</div>`;
  }

  function pct(p) {
    return p == null ? "–" : `${(p * 100).toFixed(1)}%`;
  }

  function rowHtml(ev) {
    const f = ev.fixture, live = ev.live || {};
    const home = f.home ? f.home.name : "Home", away = f.away ? f.away.name : "Away";
    const serve = (side) => (live.server === side ? `<span class="serve" title="serving">●</span>` : "");
    return `<div class="when">${whenCell(ev)}</div>
      <div class="teams">
        <span class="team home">${serve("home")}${esc(home)}</span>
        <span class="team away">${serve("away")}${esc(away)}</span>
        <span class="comp">${esc(f.competition ? f.competition.name : "")}</span>
      </div>
      <div class="score">${scoreCell(ev)}</div>
      ${columns(ev.sport).map(([type]) => marketCell(ev, type)).join("")}`;
  }

  function order(a, b) {
    const rank = (e) => (LIVE.has(e.status) ? 0 : ENDED.has(e.status) ? 2 : 1);
    const ta = a.fixture.start_time || "", tb = b.fixture.start_time || "";
    return rank(a) - rank(b) || ta.localeCompare(tb) || a.id.localeCompare(b.id);
  }

  function renderTabs() {
    const nav = $("tabs");
    if (!nav.children.length) {
      for (const [id, name] of state.sports) {
        const b = document.createElement("button");
        b.className = "tab"; b.dataset.sport = id; b.setAttribute("role", "tab");
        b.innerHTML = `<span>${name}</span><span class="count">0</span>`;
        b.onclick = () => { state.sport = id; render(); };
        nav.appendChild(b);
      }
    }
    const counts = {};
    for (const ev of state.events.values()) if (LIVE.has(ev.status)) counts[ev.sport] = (counts[ev.sport] || 0) + 1;
    for (const b of nav.children) {
      b.setAttribute("aria-selected", String(b.dataset.sport === state.sport));
      b.querySelector(".count").textContent = counts[b.dataset.sport] || 0;
      b.title = `${counts[b.dataset.sport] || 0} live`;
    }
  }

  const OUTCOME_LABELS = {
    home: "1", draw: "X", away: "2", over: "Over", under: "Under", yes: "Yes", no: "No",
    home_or_draw: "1X", home_or_away: "12", draw_or_away: "X2",
  };

  function detailHtml(ev) {
    const f = ev.fixture, model = state.models.get(ev.id);
    const home = f.home ? f.home.name : "Home", away = f.away ? f.away.name : "Away";
    const score = ev.live && ev.live.score ? `${ev.live.score.home}–${ev.live.score.away}` : "";
    const keys = [...new Set([...Object.keys(ev.markets), ...Object.keys(model ? model.markets : {})])]
      .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    const rows = keys.map((key) => {
      const m = ev.markets[key];
      const fairs = (model && model.markets[key]) || {};
      const ids = m && m.outcomes && m.outcomes.length ? m.outcomes.map((o) => o.id) : Object.keys(fairs);
      const cells = ids.map((oid) => {
        const o = m && (m.outcomes || []).find((x) => x.id === oid);
        const price = o && o.price != null ? o.price : null;
        const fair = fairs[oid];
        const value = isValue(price, fair, m && m.status === "active" && o && o.active !== false);
        const edge = value ? ` <span class="edge">+${((parseFloat(price) * fair.probability - 1) * 100).toFixed(1)}%</span>` : "";
        return `<tr class="outcome${value ? " value" : ""}" data-market="${esc(key)}" data-outcome="${esc(oid)}">
          <td class="oc">${esc(OUTCOME_LABELS[oid] || oid)}</td>
          <td class="mkt-price" data-price="${esc(price ?? "")}">${esc(price ?? "–")}</td>
          <td class="fair-price" data-fair="${esc(fair && fair.fair_price != null ? fair.fair_price : "")}">${esc(fair && fair.fair_price != null ? fair.fair_price : "–")}</td>
          <td class="prob">${esc(fair ? pct(fair.probability) : "–")}</td>
          <td class="mark">${value ? "value" + edge : ""}</td></tr>`;
      }).join("");
      const status = m ? m.status : "not offered";
      return `<tbody class="dmarket" data-market="${esc(key)}"><tr class="mhead"><th colspan="5">${esc(key)}
        <span class="mstatus ${esc(status)}">${esc(status.replace("_", " "))}</span></th></tr>${cells}</tbody>`;
    }).join("");
    const about = model
      ? `fair prices: model <b>${esc(model.model)}</b> · trained on ${esc(model.training_size)} matches · ${esc(model.sides_rated ?? 0)} of 2 sides rated · ${esc(model.phase.replace("_", " "))} · v${esc(model.event_version)}`
      : "no model prices yet";
    return `<header class="dhead">
        <div><div class="dteams">${esc(home)} <span class="dscore">${esc(score)}</span> ${esc(away)}</div>
        <div class="dabout">${about}</div></div>
        <button class="close" id="detail-close" title="close">✕</button></header>
      <table class="dtable"><thead><tr><th>outcome</th><th>market</th><th>fair</th><th>model</th><th></th></tr></thead>${rows}</table>`;
  }

  function renderDetail() {
    const panel = $("detail");
    const ev = state.open && state.events.get(state.open);
    if (!ev) { panel.hidden = true; return; }
    panel.hidden = false;
    panel.dataset.eventId = ev.id;
    const html = detailHtml(ev);
    if (panel._html !== html) {
      panel.innerHTML = html; panel._html = html;
      $("detail-close").onclick = closeDetail;
    }
  }

  function openDetail(id) {
    if (state.open === id) return;
    state.open = id;
    follow(id);
    render();
  }

  function closeDetail() {
    if (!state.open) return;
    state.open = null;
    send({ type: "unsubscribe", id: "detail" });
    render();
  }

  function render() {
    renderTabs();
    renderDetail();
    const cols = columns(state.sport);
    $("board-head").innerHTML = `<span>Time</span><span>Match</span><span>Score</span>` + cols.map(([type, label]) =>
      `<span class="mkt"><span>${label}</span><span>${(OUTCOMES[type] || []).map((o) => o[1]).join(" · ")}</span></span>`).join("");
    const list = [...state.events.values()].filter((e) => e.sport === state.sport).sort(order);
    const rows = $("rows");
    const existing = new Map([...rows.children].map((el) => [el.dataset.eventId, el]));
    let before = rows.firstChild;
    for (const ev of list) {
      let el = existing.get(ev.id);
      if (!el) {
        el = document.createElement("div"); el.className = "row"; el.dataset.eventId = ev.id;
        el.onclick = () => openDetail(ev.id);
      }
      el.classList.toggle("opened", state.open === ev.id);
      existing.delete(ev.id);
      const html = rowHtml(ev);
      if (el._html !== html) { el.innerHTML = html; el._html = html; }
      el.dataset.version = ev.version;
      if (el !== before) rows.insertBefore(el, before); else before = before.nextSibling;
    }
    for (const el of existing.values()) el.remove();
    $("empty").hidden = list.length > 0;
    $("stats").textContent = `${state.events.size} events · v${[...state.events.values()].reduce((n, e) => n + e.version, 0)} applied`;
  }

  // Running clocks tick between updates; a silent connection is replaced.
  setInterval(() => {
    for (const el of document.querySelectorAll("[data-clock]")) {
      const ev = state.events.get(el.dataset.clock);
      if (ev) el.textContent = `${periodText(ev.live && ev.live.period)} ${clockText(ev)}`;
    }
    if (state.connected && Date.now() - state.lastMessage > state.heartbeatS * 3000 + 2000) {
      state.ws.close();
    }
  }, 1000);
  setInterval(() => send({ type: "heartbeat", ts: new Date().toISOString() }), 15000);

  document.addEventListener("keydown", (e) => { if (e.key === "Escape") closeDetail(); });
  render();
  connect();
})();
