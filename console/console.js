// console/console.js — the operator console (plain ES2020, no library).
// Every API call goes to this page's own origin with the operator token as
// a Bearer header; live updates come from GET /api/events read with fetch
// streaming (so the token stays in a header, never in a URL).
"use strict";
(() => {
  const S = {
    token: sessionStorage.getItem("pl_token") || "",
    open: false,            // the central has no operator token
    lang: localStorage.getItem("pl_lang") || "vi",
    view: "dash",
    cams: [], det: {}, known: {}, results: {}, plates: {},
    hist: { offset: 0, limit: 20, rows: [], count: 0 },
    stream: null, live: false, retry: 1000, refreshTimer: 0,
  };
  const $ = (sel) => document.querySelector(sel);
  const t = (k, ...a) => {
    let s = (PL_I18N[S.lang] || PL_I18N.vi)[k] ?? k;
    a.forEach((v, i) => { s = s.replace("{" + i + "}", v); });
    return s;
  };

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (v !== null && v !== undefined && v !== false) e.setAttribute(k, v);
    }
    for (const c of kids.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  // 25000 -> "25.000 ₫" (Vietnamese grouping, whatever the browser's locale).
  function vnd(n) {
    if (n === null || n === undefined || n === "") return "—";
    const s = String(Math.round(Math.abs(Number(n)))).replace(/\B(?=(\d{3})+(?!\d))/g, ".");
    return (Number(n) < 0 ? "-" : "") + s + " ₫";
  }
  // The API's times are facility time ("2026-11-23T10:00:00+07:00"): show
  // them as they are, not in the browser's zone.
  function hms(iso) { return iso ? iso.slice(11, 19) : "—"; }
  function dayhms(iso) { return iso ? iso.slice(8, 10) + "/" + iso.slice(5, 7) + " " + iso.slice(11, 19) : "—"; }
  function pct(c) { return c === null || c === undefined ? "—" : Math.round(c * 100) + "%"; }

  // ---- API ----------------------------------------------------------------
  function headers(extra) {
    const h = Object.assign({}, extra || {});
    if (S.token) h.Authorization = "Bearer " + S.token;
    return h;
  }
  async function api(path, opts) {
    const o = Object.assign({ cache: "no-store" }, opts || {});
    o.headers = headers(o.headers);
    const r = await fetch(path, o);
    let body = null;
    try { body = await r.json(); } catch (e) { body = null; }
    if (r.status === 401 || (r.status === 403 && !path.startsWith("/api/edge/"))) {
      if (!S.open) logout(t("bad_token"));
      throw new Error("auth");
    }
    return { status: r.status, body: body || {} };
  }

  // ---- login ----------------------------------------------------------------
  async function probe() {
    // No token configured on the central: /api/stats answers without one.
    try {
      const r = await fetch("/api/stats", { cache: "no-store" });
      S.open = r.status === 200;
      return true;
    } catch (e) { return false; }
  }
  async function login(tok) {
    const r = await fetch("/api/stats", { cache: "no-store", headers: { Authorization: "Bearer " + tok } });
    if (r.status !== 200) return false;
    S.token = tok;
    sessionStorage.setItem("pl_token", tok);
    return true;
  }
  function logout(msg) {
    S.token = "";
    sessionStorage.removeItem("pl_token");
    stopStream();
    show("login");
    $("#login-error").textContent = msg || "";
  }

  // ---- views --------------------------------------------------------------
  function show(view) {
    S.view = view;
    for (const v of document.querySelectorAll(".view")) v.hidden = v.id !== "view-" + view;
    const authed = view !== "login";
    $("#tabs").hidden = !authed;
    $("#logout").hidden = !authed || S.open;
    $("#live").hidden = !authed;
    for (const b of document.querySelectorAll(".tab")) b.classList.toggle("active", b.dataset.view === view);
    if (view === "history") loadHistory();
    if (view === "conflicts") loadConflicts();
    if (view === "peers") loadPeers();
    if (view === "ops" && window.PL_OPS) PL_OPS.view($("#ops")).catch(() => {});	// ops.js
  }
  function applyLang() {
    document.documentElement.lang = S.lang;
    $("#lang").textContent = S.lang === "vi" ? "EN" : "VI";
    for (const e of document.querySelectorAll("[data-i18n]")) e.textContent = t(e.dataset.i18n);
    for (const e of document.querySelectorAll("[data-i18n-ph]")) e.placeholder = t(e.dataset.i18nPh);
    setLive(S.live);
    if (S.open) notice(t("open_mode"));
    renderCounters(); renderGates();
    if (S.view === "history") renderHistory();
    if (S.view === "conflicts") loadConflicts();
    if (S.view === "peers") loadPeers();
  }
  function notice(msg) { const n = $("#notice"); n.textContent = msg || ""; n.hidden = !msg; }
  function setLive(on) {
    S.live = on;
    const l = $("#live");
    l.textContent = t(on ? "live_on" : "live_off");
    l.className = "live " + (on ? "on" : "off");
  }

  // ---- dashboard ---------------------------------------------------------
  let state = null;
  async function loadState() {
    const [st, cams] = await Promise.all([api("/api/parking/state?limit=0"), api("/api/cameras")]);
    state = st.body;
    S.cams = cams.body.cameras || [];
    for (const c of S.cams) {
      const d = c.last_detection;
      if (d && (!S.det[c.camera_id] || S.det[c.camera_id].time_ms <= d.time_ms)) S.det[c.camera_id] = d;
    }
    renderCounters();
    await loadKnown();
    renderGates();
  }
  // What the central knows of each plate shown on a card.
  async function loadKnown() {
    const plates = new Set(Object.values(S.det).map((d) => d.plate_id));
    await Promise.all([...plates].map(async (p) => {
      try { S.known[p] = (await api("/api/parking/vehicle/" + encodeURIComponent(p))).body; } catch (e) { /* shown as unknown */ }
    }));
  }
  function counter(label, value, sub, id) {
    return el("div", { class: "counter", id }, el("div", { class: "c-label" }, label),
      el("div", { class: "c-value" }, value), sub ? el("div", { class: "c-sub" }, sub) : null);
  }
  // The CSP forbids style attributes; CSSOM properties are fine.
  function bar(frac) {
    const i = el("i");
    i.style.width = Math.min(100, Math.round(100 * frac)) + "%";
    return i;
  }
  function renderCounters() {
    const box = $("#counters");
    if (!state) return;
    const s = state.stats || {};
    const classes = (state.by_class || []).map((c) => el("div", { class: "cls" },
      el("span", { class: "cls-name" }, c.vehicle), " ",
      el("b", {}, c.inside), c.capacity ? " " + t("of_capacity", c.capacity) : "",
      c.capacity ? el("div", { class: "bar" }, bar(c.inside / c.capacity)) : null));
    box.replaceChildren(
      counter(t("inside_now"), s.vehicles_in_parking ?? 0, classes, "c-inside"),
      counter(t("entries_today"), s.entries_today ?? 0, null, "c-entries"),
      counter(t("exits_today"), s.exits_today ?? 0, null, "c-exits"),
      counter(t("revenue_today"), vnd(s.revenue_today ?? 0), null, "c-revenue"));
  }
  function gateCard(c) {
    const id = c.camera_id, d = S.det[id], k = d ? S.known[d.plate_id] : null;
    const res = S.results[id];
    const plateInput = el("input", { class: "plate-in", "aria-label": t("plate"), value: S.plates[id] ?? (d ? d.plate_view : "") });
    plateInput.addEventListener("input", () => { S.plates[id] = plateInput.value; });
    const act = (action) => barrier(id, action, plateInput.value);
    const sess = k && k.session;
    return el("article", { class: "card gate " + c.status, "data-edge": id },
      el("header", {}, el("h3", {}, c.camera_name || id),
        el("span", { class: "badge " + c.status }, t(c.status))),
      c.gate ? el("div", { class: "small link " + (c.gate.connected ? "on" : "off") },
        t(c.gate.connected ? "gate_link_on" : "gate_link_off")) : null,
      c.clock && (c.clock.edge_ts_refused > 0 || !c.clock.trusted) ? el("div", { class: "small link off" },
        c.clock.trusted ? "" : t("clock_off", c.clock.offset_ms), c.clock.trusted ? "" : " · ",
        t("clock_refused", c.clock.edge_ts_refused, c.clock.last_refusal || "—")) : null,
      el("div", { class: "muted" }, t("dir_" + (c.direction || "ANY")), " · ", c.camera_type),
      el("div", { class: "det" },
        el("div", { class: "muted small" }, t("last_detection")),
        d ? [el("div", { class: "plate" }, d.plate_view || d.plate_id),
          el("div", { class: "small" }, t("confidence"), " ", pct(d.confidence), " · ", hms(d.time))]
          : el("div", { class: "muted" }, t("no_detection"))),
      k ? el("div", { class: "known " + (k.inside ? "in" : "out") },
        el("b", {}, t(k.inside ? "inside_yes" : "inside_no")),
        sess ? [" · ", t("entered"), " ", dayhms(sess.entry_time), " · ", t("fee_due"), " ",
          el("b", {}, vnd(sess.fee_now))] : null) : null,
      el("div", { class: "actions" }, plateInput,
        el("button", { class: "primary", onclick: () => act("open") }, t("open")),
        el("button", { onclick: () => act("close") }, t("close"))),
      res ? el("div", { class: "result " + (res.ok ? "ok" : "bad"), role: "status" }, res.ok
        ? [el("b", {}, res.action), " · ", t("event_id"), " ", el("code", { class: "evid" }, res.event_id || "—"),
          res.fee !== undefined ? [" · ", t("fee"), " ", el("b", {}, vnd(res.fee))] : null,
          res.confirmed !== undefined ? [" · ", t(res.confirmed ? "confirmed" : "not_confirmed")] : null,
          res.barrier ? [" · ", el("span", { class: "ack " + (res.barrier.ok ? "yes" : "no") },
            res.barrier.ok ? t("barrier_acked", res.barrier.ms) : t("barrier_not", res.barrier.reason))] : null]
        : [t("error"), ": ", res.error]) : null);
  }
  function renderGates() {
    const box = $("#gates");
    box.replaceChildren(...S.cams.map(gateCard));
  }
  async function barrier(edge, action, plate) {
    const body = { edge_id: edge, plate_id: plate.toUpperCase().replace(/[^A-Z0-9]/g, ""), action };
    const d = S.det[edge];
    if (d && d.plate_id === body.plate_id) body.plate_view = d.plate_view;
    else if (plate) body.plate_view = plate;
    try {
      const r = await api("/api/edge/barrier/" + action, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      const b = r.body;
      S.results[edge] = r.status === 200
        ? { ok: true, action: b.action, event_id: action === "open" && b.action === "EXIT" ? b.exit_event_id : b.event_id,
          fee: b.action === "EXIT" ? b.fee : undefined, confirmed: action === "close" ? b.confirmed : undefined,
          barrier: b.barrier }
        : { ok: false, error: b.error || r.status };
    } catch (e) {
      S.results[edge] = { ok: false, error: e.message };
    }
    renderGates();
    scheduleRefresh(0);
  }

  // ---- history -------------------------------------------------------------
  function histQuery() {
    const q = new URLSearchParams({ limit: S.hist.limit, offset: S.hist.offset });
    if ($("#f-today").checked) q.set("today_only", "true");
    if ($("#f-inside").checked) q.set("in_parking_only", "true");
    if ($("#f-status").value) q.set("status", $("#f-status").value);
    const s = $("#f-search").value.trim().toUpperCase();
    if (s) q.set("search", s);
    return q;
  }
  async function loadHistory() {
    const r = await api("/api/parking/history?" + histQuery());
    S.hist.rows = r.body.history || [];
    renderHistory();
  }
  function flagsOf(row) { return (row.flags || []).filter((f) => f !== "LINKED_EXIT"); }
  function renderHistory() {
    const tb = $("#hist-table tbody");
    const rows = S.hist.rows.map((h) => el("tr", { class: "row", tabindex: "0", "data-plate": h.plate_id,
      onclick: () => showDetail(h), onkeydown: (e) => { if (e.key === "Enter") showDetail(h); } },
      el("td", { class: "plate-cell" }, h.plate_view || h.plate_id), el("td", {}, h.vehicle),
      el("td", {}, el("span", { class: "badge " + (h.status === "IN" ? "online" : "offline") }, h.status)),
      el("td", {}, dayhms(h.entry_time)), el("td", {}, dayhms(h.exit_time)),
      el("td", {}, h.duration || "—"), el("td", { class: "num" }, vnd(h.status === "IN" ? h.fee_now : h.fee)),
      el("td", {}, flagsOf(h).map((f) => el("span", { class: "flag", title: t("c_" + f) }, f)))));
    tb.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 8, class: "muted" }, t("no_rows")))]));
    $("#page").textContent = t("page", Math.floor(S.hist.offset / S.hist.limit) + 1);
    $("#prev").disabled = S.hist.offset === 0;
    $("#next").disabled = S.hist.rows.length < S.hist.limit;
  }
  function kv(k, v) { return [el("dt", {}, t(k)), el("dd", {}, v === null || v === undefined || v === "" ? "—" : v)]; }
  function showDetail(h) {
    const d = $("#detail");
    d.replaceChildren(el("header", {}, el("h3", {}, t("session"), " ", h.plate_view || h.plate_id),
      el("button", { class: "small", onclick: () => { d.hidden = true; } }, t("close_detail"))),
    el("dl", {}, kv("event_id", el("code", {}, h.event_id)), kv("vehicle", h.vehicle), kv("status", h.status),
      kv("entry", dayhms(h.entry_time)), kv("entry_edge", h.entry_edge), kv("entry_central", h.entry_central),
      kv("exit", dayhms(h.exit_time)), kv("exit_edge", h.exit_edge), kv("exit_central", h.exit_central),
      kv("exit_event_id", h.exit_event_id ? el("code", {}, h.exit_event_id) : null),
      kv("duration", h.duration), kv("fee", vnd(h.fee)), kv("fee_tariff", vnd(h.fee_tariff)),
      h.status === "IN" ? kv("fee_now", vnd(h.fee_now)) : null, h.primary ? kv("primary", el("code", {}, h.primary)) : null),
    flagsOf(h).map((f) => el("p", { class: "explain" }, el("b", {}, f), " — ", t("c_" + f))),
    el("h4", {}, t("events")), el("ol", { id: "detail-events", class: "events small" }, el("li", { class: "muted" }, "…")));
    d.hidden = false;
    d.scrollIntoView({ block: "nearest" });
    loadSessionEvents(h);
    // ops.js: the change trail, correct, void, "did you mean"
    if (window.PL_OPS) PL_OPS.detail(h, d, () => { d.hidden = true; loadHistory(); }).catch(() => {});
  }
  // ms since the epoch in the facility's time, the offset taken from an API time
  function tsLocal(ms, isoRef) {
    const m = /([+-])(\d\d):(\d\d)$/.exec(isoRef || "");
    const off = m ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60000 : 0;
    return dayhms(new Date(ms + off).toISOString());
  }
  // The events the session is made of, as the log holds them.
  async function loadSessionEvents(h) {
    const ol = $("#detail-events");
    const r = await api("/api/parking/session/" + encodeURIComponent(h.event_id));
    const evs = (r.body && r.body.events) || [];
    if (!ol.isConnected) return;
    ol.replaceChildren(...(evs.length ? evs.map((e) => el("li", {},
      el("b", {}, e.type), " · ", tsLocal(e.ts, h.entry_time || h.exit_time), " · ", e.edge_id, " · ", e.origin,
      e.type === "EXIT" ? [" · ", vnd(e.fee)] : null, " ", el("code", { class: "muted" }, e.id))) :
      [el("li", { class: "muted" }, t("no_rows"))]));
  }

  // ---- conflicts, peers ---------------------------------------------------------
  async function loadConflicts() {
    const r = await api("/api/parking/conflicts?limit=200");
    const rows = r.body.conflicts || [];
    $("#conflicts").replaceChildren(...(rows.length ? rows.map((h) => el("article", { class: "card conflict" },
      el("h3", {}, h.plate_view || h.plate_id, " ", el("span", { class: "muted small" }, dayhms(h.entry_time || h.exit_time))),
      flagsOf(h).map((f) => el("p", { class: "explain" }, el("b", {}, f), " — ", t("c_" + f))),
      el("div", { class: "small" }, t("fee"), " ", vnd(h.fee), " · ", t("fee_tariff"), " ", vnd(h.fee_tariff),
        h.primary ? [" · ", t("primary"), " ", el("code", {}, h.primary)] : null),
      el("div", { class: "small muted" }, el("code", {}, h.event_id)))) : [el("p", { class: "muted" }, t("no_conflicts"))]));
  }
  async function loadPeers() {
    const b = (await api("/api/p2p/status")).body;
    const vec = Object.entries(b.vector || {}).map(([s, v]) =>
      el("tr", {}, el("td", {}, el("code", {}, s)), el("td", { class: "num" }, v[0]), el("td", {}, el("code", {}, v[1]))));
    const peers = (b.peers || []).map((p) => el("article", { class: "card peer" },
      el("header", {}, el("h3", {}, p.peer_id), el("span", { class: "badge " + (p.connected ? "online" : "offline") },
        t(p.connected ? "connected" : "disconnected"))),
      el("div", { class: "small muted" }, p.peer_ip, ":", p.peer_port),
      el("dl", {}, kv("lag", p.lag), kv("last_sync", p.last_sync_time ? dayhms(p.last_sync_time) : t("never")),
        p.last_error ? kv("error", p.last_error) : null)));
    $("#peers").replaceChildren(
      el("article", { class: "card" }, el("h3", {}, t("this_central"), ": ", b.this_central),
        b.standalone_mode ? el("p", { class: "muted" }, t("standalone")) : null,
        el("dl", {}, kv("digest", el("code", {}, b.state_digest))),
        el("h4", {}, t("vector")),
        el("div", { class: "table-wrap" }, el("table", { class: "rows" },
          el("thead", {}, el("tr", {}, el("th", {}, t("stream")), el("th", {}, t("head")), el("th", {}, "P"))),
          el("tbody", {}, vec)))),
      el("div", { class: "gates" }, peers), exportCard(b.export));
  }
  // The export to NATS JetStream (docs/export.md), when configured.
  function exportCard(x) {
    if (!x) return null;
    return el("article", { class: "card peer" },
      el("header", {}, el("h3", {}, t("export"), " · ", x.stream), el("span", { class: "badge " + (x.connected ? "online" : "offline") },
        t(x.connected ? "connected" : "disconnected"))),
      el("dl", {}, kv("lag", x.lag), kv("exported", x.exported),
        kv("last_sync", x.last_ack_ms ? dayhms(new Date(x.last_ack_ms).toISOString()) : t("never")),
        x.last_error ? kv("error", x.last_error) : null));
  }

  // ---- live updates -----------------------------------------------------------
  function scheduleRefresh(ms) {
    clearTimeout(S.refreshTimer);
    S.refreshTimer = setTimeout(refreshAll, ms);
  }
  async function refreshAll() {
    try {
      await loadState();
      if (S.view === "history") await loadHistory();
      if (S.view === "conflicts") await loadConflicts();
      if (S.view === "peers") await loadPeers();
    } catch (e) { /* the stream's reconnect will retry */ }
  }
  function onMessage(name, data) {
    let m = null;
    try { m = JSON.parse(data); } catch (e) { return; }
    if (name === "hello") {
      S.retry = 1000; setLive(true); scheduleRefresh(0);
      $("#central").textContent = m.this_central || "";
    }
    else if (name === "detection") {
      S.det[m.edge_id] = m;
      delete S.plates[m.edge_id];
      const vi = m.vehicle_info || {};
      S.known[m.plate_id] = Object.assign({}, S.known[m.plate_id] || {}, { inside: !!vi.already_inside });
      if (!S.cams.some((c) => c.camera_id === m.edge_id)) scheduleRefresh(0);
      renderGates();
      loadKnown().then(renderGates).catch(() => {});
    } else if (name === "camera") {
      const c = S.cams.find((x) => x.camera_id === m.camera_id);
      if (c) { c.status = m.status || "online"; renderGates(); } else scheduleRefresh(0);
    } else if (name === "gate") {
      const c = S.cams.find((x) => x.camera_id === m.camera_id);
      if (c) { c.gate = Object.assign({}, c.gate, { connected: m.connected }); renderGates(); }
      else scheduleRefresh(0);
    } else if (name === "log" || name === "resync") {
      scheduleRefresh(name === "log" ? 150 : 0);
    }
  }
  // Reads "event:/data:" blocks from the stream; returns when it ends.
  async function readStream(resp, ctl) {
    const rd = resp.body.getReader(), dec = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await rd.read();
      if (done || ctl.signal.aborted) return;
      buf += dec.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, i); buf = buf.slice(i + 2);
        let name = "message", data = "";
        for (const line of block.split("\n")) {
          if (line.startsWith("event: ")) name = line.slice(7);
          else if (line.startsWith("data: ")) data += line.slice(6);
          else if (line.startsWith("retry: ")) S.retry = Number(line.slice(7)) || S.retry;
        }
        if (data) onMessage(name, data);
      }
    }
  }
  async function startStream() {
    stopStream();
    const ctl = new AbortController();
    S.stream = ctl;
    while (S.stream === ctl) {
      try {
        const r = await fetch("/api/events", { headers: headers({ Accept: "text/event-stream" }), signal: ctl.signal, cache: "no-store" });
        if (r.status === 401 || r.status === 403) { logout(t("bad_token")); return; }
        if (r.ok) await readStream(r, ctl);
      } catch (e) { /* reconnect below */ }
      if (S.stream !== ctl) return;
      setLive(false);
      await new Promise((res) => setTimeout(res, S.retry));
      S.retry = Math.min(S.retry * 2, 10000);
    }
  }
  function stopStream() {
    if (S.stream) S.stream.abort();
    S.stream = null;
    setLive(false);
  }

  async function enter() {
    show("dash");
    await refreshAll();
    startStream();
  }

  // ---- wiring -------------------------------------------------------------------
  window.PL = { api, el, t };	// for ops.js
  function wire() {
    $("#login-form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const tok = $("#token").value.trim();
      if (!tok) { $("#login-error").textContent = t("no_token"); return; }
      try {
        if (await login(tok)) { $("#token").value = ""; $("#login-error").textContent = ""; enter(); }
        else $("#login-error").textContent = t("bad_token");
      } catch (err) { $("#login-error").textContent = t("unreachable"); }
    });
    $("#tabs").addEventListener("click", (e) => { const v = e.target.dataset && e.target.dataset.view; if (v) show(v); });
    $("#lang").addEventListener("click", () => {
      S.lang = S.lang === "vi" ? "en" : "vi";
      localStorage.setItem("pl_lang", S.lang);
      applyLang();
    });
    $("#logout").addEventListener("click", () => logout(""));
    $("#hist-filters").addEventListener("submit", (e) => { e.preventDefault(); S.hist.offset = 0; loadHistory(); });
    for (const id of ["#f-today", "#f-inside", "#f-status"])
      $(id).addEventListener("change", () => { S.hist.offset = 0; loadHistory(); });
    $("#prev").addEventListener("click", () => { S.hist.offset = Math.max(0, S.hist.offset - S.hist.limit); loadHistory(); });
    $("#next").addEventListener("click", () => { S.hist.offset += S.hist.limit; loadHistory(); });
    // Offline is "no heartbeat for a while": the stream says when an edge
    // speaks, a slow poll says when it went quiet.
    setInterval(() => { if (S.view !== "login" && (S.token || S.open)) loadState().catch(() => {}); }, 20000);
  }

  async function main() {
    wire();
    applyLang();
    if (!(await probe())) { notice(t("unreachable")); show("login"); return; }
    if (S.open) { S.token = ""; applyLang(); return enter(); }
    if (S.token && (await login(S.token))) return enter();
    logout("");
  }
  main();
})();
