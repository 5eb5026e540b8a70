// console/ops.js — operator changes in the console (docs/operator-changes.md):
// a session's change trail (who, when, why, old → new), correcting a plate
// (with the "did you mean" plates inside for an orphan exit), voiding with a
// reason; the Operator tab: passes, the tariff, recent changes. console.js
// hands over its helpers as window.PL and calls PL_OPS.detail / .view.
"use strict";
window.PL_OPS = (() => {
  const L = {
    vi: {
      trail: "Lịch sử thay đổi", no_changes: "Chưa có thay đổi", correct: "Sửa biển số",
      void: "Hủy phiên", reason: "Lý do?", new_plate: "Biển số đúng?", did_you_mean: "Có phải xe:",
      link: "Gắn với phiên này", done: "Đã ghi", passes: "Vé tháng", tariff: "Biểu phí",
      issue: "Cấp vé", revoke: "Thu hồi", plate: "Biển số", from: "Từ", to: "Đến",
      in_force: "Đang áp dụng", set_tariff: "Đặt biểu phí (JSON)", recent: "Thay đổi gần đây",
      by: "bởi", not_allowed: "Tài khoản không có quyền này",
    },
    en: {
      trail: "Change trail", no_changes: "No changes", correct: "Correct plate",
      void: "Void session", reason: "Reason?", new_plate: "Correct plate?", did_you_mean: "Did you mean:",
      link: "Link to this session", done: "Recorded", passes: "Passes", tariff: "Tariff",
      issue: "Issue pass", revoke: "Revoke", plate: "Plate", from: "From", to: "To",
      in_force: "In force", set_tariff: "Set tariff (JSON)", recent: "Recent changes",
      by: "by", not_allowed: "This account may not do that",
    },
  };
  const tr = (k) => (L[localStorage.getItem("pl_lang") || "vi"] || L.vi)[k] || k;
  const P = () => window.PL;

  async function post(path, body) {
    const r = await P().api(path, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body) });
    if (r.status === 403) alert(tr("not_allowed"));
    else if (r.status !== 200) alert((r.body && r.body.error) || r.status);
    return r.status === 200;
  }
  function when(iso) { return iso ? iso.slice(0, 19).replace("T", " ") : "—"; }
  function changeLine(c) {
    const el = P().el;
    return el("li", {}, el("b", {}, c.change_type === "UPDATE" ? "PLATE_CORRECTED" : "SESSION_VOIDED"),
      " · ", when(c.changed_at), " · ", tr("by"), " ", el("b", {}, c.operator), " · ",
      c.change_type === "UPDATE" ? [c.old_plate_id, " → ", c.new_plate_id] : c.old_plate_id,
      " · ", el("i", {}, c.reason));
  }

  // The session's trail and its actions, appended to the detail card.
  async function detail(h, card, reload) {
    const el = P().el, ids = [h.event_id, h.exit_event_id].filter(Boolean);
    const trail = el("ol", { class: "events small" }, el("li", { class: "muted" }, "…"));
    const actions = el("div", { class: "actions" });
    card.append(el("h4", {}, tr("trail")), trail, actions);
    const r = await P().api("/api/ops/changes?plate=" + encodeURIComponent(h.plate_id));
    const mine = (r.body.changes || []).filter((c) => ids.includes(c.history_id));
    trail.replaceChildren(...(mine.length ? mine.map(changeLine) : [el("li", { class: "muted" }, tr("no_changes"))]));
    actions.append(el("button", { class: "small", onclick: async () => {
      const plate = prompt(tr("new_plate"), h.plate_id); if (!plate) return;
      const reason = prompt(tr("reason")); if (!reason) return;
      if (await post("/api/ops/correct", { event_id: h.entry_time ? h.event_id : h.exit_event_id, plate, reason })) reload();
    } }, tr("correct")), " ", el("button", { class: "small", onclick: async () => {
      const reason = prompt(tr("reason")); if (!reason) return;
      if (await post("/api/ops/void", { session: h.event_id, reason })) reload();
    } }, tr("void")));
    if ((h.flags || []).includes("ORPHAN_EXIT")) await candidates(h, actions, reload);
  }
  // An orphan exit: the plates inside within one or two characters.
  async function candidates(h, box, reload) {
    const el = P().el;
    const r = await P().api("/api/ops/candidates?plate=" + encodeURIComponent(h.plate_id));
    const cs = r.body.candidates || [];
    if (!cs.length) return;
    box.append(el("p", {}, tr("did_you_mean")), el("ul", {}, cs.map((c) => el("li", {},
      el("b", {}, c.plate_view || c.plate_id), " (", c.distance, ") ",
      el("button", { class: "small", onclick: async () => {
        const reason = prompt(tr("reason"), h.plate_id + " → " + c.plate_id); if (!reason) return;
        if (await post("/api/ops/correct", { exit_id: h.exit_event_id || h.event_id, session: c.session, reason })) reload();
      } }, tr("link"))))));
  }

  // The Operator tab: passes, tariff, recent changes.
  async function view(root) {
    const el = P().el;
    const [ps, tf, ch] = await Promise.all([P().api("/api/ops/passes"), P().api("/api/ops/tariff"),
      P().api("/api/ops/changes")]);
    const form = el("form", { class: "filters", onsubmit: async (e) => {
      e.preventDefault();
      const f = e.target, reason = prompt(tr("reason")); if (!reason) return;
      const body = { plate: f.plate.value, reason };
      if (f.from.value) body.valid_from_ms = Date.parse(f.from.value);
      if (f.to.value) body.valid_to_ms = Date.parse(f.to.value) + 86400000;
      if (await post("/api/ops/pass", body)) view(root);
    } }, el("input", { name: "plate", placeholder: tr("plate"), required: true }),
    el("input", { name: "from", type: "date", title: tr("from") }), el("input", { name: "to", type: "date", title: tr("to") }),
    el("button", { type: "submit" }, tr("issue")));
    const passes = (ps.body.passes || []).map((p) => el("li", {}, el("b", {}, p.plate_id), " · ", p.pass, " · ",
      p.kind, " · ", p.in_force ? tr("in_force") : "—", " ",
      p.revoked_ms < 0 ? el("button", { class: "small", onclick: async () => {
        const reason = prompt(tr("reason")); if (!reason) return;
        if (await post("/api/ops/pass/revoke", { plate: p.plate_id, pass: p.pass, reason })) view(root);
      } }, tr("revoke")) : null));
    const ta = el("textarea", { rows: 4, cols: 60 });
    const sched = (tf.body.schedule || []).map((s) => el("li", {}, when(new Date(s.effective_from_ms).toISOString()),
      " · ", el("code", {}, JSON.stringify(s.tariff))));
    root.replaceChildren(el("h2", {}, tr("passes")), form, el("ul", {}, passes),
      el("h2", {}, tr("tariff")), el("p", {}, tr("in_force"), ": ", el("b", {}, tf.body.in_force || "—")),
      el("ol", { class: "small" }, sched), ta, el("button", { onclick: async () => {
        let tariff; try { tariff = JSON.parse(ta.value); } catch (e) { alert(e.message); return; }
        const reason = prompt(tr("reason")); if (!reason) return;
        if (await post("/api/ops/tariff", { tariff, reason })) view(root);
      } }, tr("set_tariff")),
      el("h2", {}, tr("recent")), el("ol", { class: "events small" }, (ch.body.changes || []).slice(0, 50).map(changeLine)));
  }
  return { detail, view };
})();
