// SportsFeed consumer key of the page: from the link `make up` prints (#key=..., a fragment:
// browsers never send it, so it reaches no server log), else the browser's storage, else
// asked once. Checked with GET /v1/access/key, kept in localStorage, removed from the
// address bar. app.js (WebSocket) and trading.js (REST) wait for `sportsfeedKey.ready`.
(() => {
  "use strict";

  const STORE = "sportsfeed.key";
  const $ = (id) => document.getElementById(id);

  function fromLink() {
    const hash = new URLSearchParams(location.hash.slice(1));
    const key = hash.get("key");
    if (!key) return null;
    hash.delete("key");
    const rest = hash.toString();
    history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
    return key.trim();
  }

  function stored() {
    try { return localStorage.getItem(STORE); } catch (e) { return null; }
  }

  function store(key) {
    try { localStorage.setItem(STORE, key); } catch (e) { /* private mode: this page only */ }
  }

  async function describe(key) {
    // The key's name, scopes, sports and limits; null when the server does not know it.
    const response = await fetch("/v1/access/key", {
      cache: "no-store", headers: { Authorization: `Bearer ${key}` },
    });
    if (response.status === 401) return null;
    if (!response.ok) throw new Error(`/v1/access/key: ${response.status}`);
    return response.json();
  }

  function ask(message) {
    // The key form: shown until a key is entered.
    const gate = $("key-gate"), form = $("key-form"), input = $("key-input");
    $("key-message").textContent = message;
    gate.hidden = false;
    input.value = "";
    input.focus();
    return new Promise((resolve) => {
      form.onsubmit = (e) => {
        e.preventDefault();
        const key = input.value.trim();
        if (!key) return;
        gate.hidden = true;
        resolve(key);
      };
    });
  }

  const FIRST = "This feed needs a consumer key. `make up` prints one, and a link that carries it.";

  async function obtain(reason) {
    let config = {};
    try { config = await (await fetch("/config.json", { cache: "no-store" })).json(); } catch (e) { /* keys, then */ }
    if (config.auth === "off") return { key: null, info: { name: "anonymous", scopes: null, sports: null } };
    let key = reason ? null : fromLink() || stored();
    let message = reason || FIRST;
    for (;;) {
      if (!key) key = await ask(message);
      let info = null;
      try {
        info = await describe(key);
      } catch (err) {
        message = `The key could not be checked (${err.message}): try again.`;
        key = null;
        continue;
      }
      if (info) {
        store(key);
        const label = $("key-name");
        if (label) label.textContent = `key ${info.name}`;
        return { key, info };
      }
      try { localStorage.removeItem(STORE); } catch (e) { /* nothing stored */ }
      message = "That key is not valid here: enter another.";
      key = null;
    }
  }

  const api = {
    ready: obtain(null),
    // The key was refused (revoked, or its scopes changed): forget it and ask again.
    renew(reason) {
      try { localStorage.removeItem(STORE); } catch (e) { /* nothing stored */ }
      api.ready = obtain(reason || "The key was refused: enter another.");
      return api.ready;
    },
    allows(info, scope) {
      return info.scopes === null || info.scopes.includes(scope);
    },
    async headers() {
      const { key } = await api.ready;
      return key ? { Authorization: `Bearer ${key}` } : {};
    },
  };
  window.sportsfeedKey = api;
})();
