// tests/browser/console_test.mjs — the operator console in Debian's
// Chromium (headless, driven by playwright-core): login, a detection shown
// live, Open (acknowledged by a gate on the gate channel), counters,
// history, language; screenshots of the main views.
// Usage: node console_test.mjs PARKLOGD OUTDIR   (run.sh installs playwright-core)
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const [parklogd, outDir] = process.argv.slice(2);
const OP = "op-console-0123456789";
const EDGES = [
  { id: "gate-in", direction: "ENTRY", vehicle: "car", token: "tok-in-0123456789abcdef" },
  { id: "gate-out", direction: "EXIT", vehicle: "car", token: "tok-out-0123456789abcdef" },
];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "parklog-browser."));
const shots = path.join(outDir, "screenshots");
fs.mkdirSync(shots, { recursive: true });
let daemon = null, browser = null, gateTimer = null, fakeGate = null, gatesPort = 0;

function freePort() {
  return new Promise((res) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => res(p)); });
  });
}
function fail(msg) { throw new Error("FAIL: " + msg); }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startDaemon() {
  const port = await freePort(), p2p = await freePort(), gates = await freePort();
  gatesPort = gates;
  const conf = path.join(tmp, "parklogd.json");
  fs.writeFileSync(conf, JSON.stringify({ id: "central-1", operator_token: OP, edges: EDGES,
    capacity: { car: 50, moto: 200 } }));
  const log = fs.openSync(path.join(outDir, "parklogd.log"), "w");
  daemon = spawn(parklogd, ["-f", conf, "--data", path.join(tmp, "data"),
    "--http", "127.0.0.1:" + port, "--p2p", "127.0.0.1:" + p2p, "--gates", "127.0.0.1:" + gates],
    { stdio: ["ignore", log, log] });
  const base = "http://127.0.0.1:" + port;
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(base + "/healthz")).ok) return base; } catch (e) { /* not yet */ }
    await sleep(100);
  }
  fail("parklogd did not start");
}

// The simulated gate: what parklog-edge posts, with the edge's own token.
async function gate(base, edge, pathName, body) {
  const e = EDGES.find((x) => x.id === edge);
  const r = await fetch(base + pathName, { method: "POST",
    headers: { "Content-Type": "application/json", Authorization: "Bearer " + e.token },
    body: JSON.stringify(Object.assign({ edge_id: edge }, body)) });
  if (r.status !== 200) fail(pathName + " " + r.status + " " + (await r.text()));
  return r.json();
}
function heartbeats(base) {
  const beat = () => Promise.all(EDGES.map((e) => gate(base, e.id, "/api/edge/heartbeat",
    { camera_id: e.id, camera_name: e.id === "gate-in" ? "Cổng vào A" : "Cổng ra B", camera_type: "car",
      status: "online", events_sent: 0, events_failed: 0 }))).catch(() => {});
  gateTimer = setInterval(beat, 2000);
  return beat();
}

async function text(page, sel) { return (await page.locator(sel).first().textContent()) || ""; }
async function waitText(page, sel, re, what, timeout = 5000) {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    if (re.test(await text(page, sel).catch(() => ""))) return;
    await sleep(50);
  }
  fail(what + ": " + sel + " is " + JSON.stringify(await text(page, sel).catch(() => "")));
}

async function main() {
  const base = await startDaemon();
  const offOrigin = [];
  // A fresh profile each run (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(path.join(tmp, "profile"), {
    executablePath: "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1366, height: 768 }, locale: "vi-VN" });
  const page = browser.pages()[0] || await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("request", (r) => { if (!r.url().startsWith(base + "/")) offOrigin.push(r.url()); });

  // 1. without a token: the login page only
  await page.goto(base + "/");
  await page.waitForSelector("#view-login:not([hidden])");
  if (await page.locator("#view-dash").isVisible()) fail("dashboard visible before login");
  await page.screenshot({ path: path.join(shots, "1-login.png") });
  await page.fill("#token", "wrong-token");
  await page.click("#login-form button[type=submit]");
  await waitText(page, "#login-error", /\S/, "wrong token refused");

  // 2. log in; the gate cards show both gates online (heartbeats)
  await heartbeats(base);
  await page.fill("#token", OP);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#view-dash:not([hidden])");
  await page.waitForSelector('.gate[data-edge="gate-in"]');
  await waitText(page, "#live", /Trực tiếp/, "live stream connected");
  await waitText(page, '.gate[data-edge="gate-in"] .badge', /Trực tuyến/, "gate online");
  const entries0 = Number(await text(page, "#c-entries .c-value"));

  // 3. a detection appears on the card without a reload
  await page.evaluate(() => { window.__noReload = true; });
  await gate(base, "gate-in", "/api/edge/detection", { plate_id: "51F12345", plate_view: "51F-123.45",
    camera_type: "car", direction: "ENTRY", confidence: 0.93 });
  await waitText(page, '.gate[data-edge="gate-in"] .plate', /51F-123\.45/, "detection on the card");
  await waitText(page, '.gate[data-edge="gate-in"] .det', /93%/, "confidence on the card");
  if (!(await page.evaluate(() => window.__noReload))) fail("the page reloaded");

  // 4. the gate's channel comes up (pushed live), Open: the event id, the
  // gate's acknowledgement and the counters change
  await waitText(page, '.gate[data-edge="gate-in"] .link', /mất kết nối cổng/, "gate not linked yet");
  fakeGate = spawn("/usr/bin/python3", [path.join(path.dirname(new URL(import.meta.url).pathname),
    "fake_gate.py"), String(gatesPort), "gate-in", EDGES[0].token], { stdio: "inherit" });
  await waitText(page, '.gate[data-edge="gate-in"] .link', /^kết nối cổng$/, "gate linked, live");
  await page.click('.gate[data-edge="gate-in"] button.primary');
  await waitText(page, '.gate[data-edge="gate-in"] .result', /central-1_\d{13}_51F12345/, "event id shown");
  await waitText(page, '.gate[data-edge="gate-in"] .result', /barie đã xác nhận/, "barrier acknowledged");
  await waitText(page, "#c-entries .c-value", new RegExp("^" + (entries0 + 1) + "$"), "entries today +1");
  await waitText(page, "#c-inside .c-value", /^1$/, "inside now 1");
  await waitText(page, '.gate[data-edge="gate-in"] .known', /Đang trong bãi/, "the central knows it is inside");
  await page.screenshot({ path: path.join(shots, "2-dashboard.png") });

  // 5. an exit at the other gate; the fee shows as VND
  await gate(base, "gate-out", "/api/edge/detection", { plate_id: "51F12345", plate_view: "51F-123.45",
    confidence: 0.88 });
  await waitText(page, '.gate[data-edge="gate-out"] .plate', /51F-123\.45/, "detection at the exit");
  await page.click('.gate[data-edge="gate-out"] button.primary');
  await waitText(page, '.gate[data-edge="gate-out"] .result', /EXIT.*0 ₫/, "exit with its fee");
  await waitText(page, "#c-exits .c-value", /^1$/, "exits today 1");
  await waitText(page, "#c-revenue .c-value", /^0 ₫$/, "revenue in VND");

  // 6. history: the session, filtered by plate; its details
  await page.click('.tab[data-view="history"]');
  await page.fill("#f-search", "51F");
  await page.click("#hist-filters button[type=submit]");
  await waitText(page, "#hist-table tbody", /51F-123\.45/, "session in history");
  await page.click('#hist-table tr.row[data-plate="51F12345"]');
  await waitText(page, "#detail", /central-1_\d{13}_51F12345/, "session details");
  await waitText(page, "#detail-events", /ENTRY_PENDING[\s\S]*EXIT/, "the session's events");
  await page.selectOption("#f-status", "IN");
  await waitText(page, "#hist-table tbody", /^(?!.*51F).*$/s, "IN filter hides the closed session");
  await page.selectOption("#f-status", "");
  await waitText(page, "#hist-table tbody", /51F-123\.45/, "session back");
  await page.click('#hist-table tr.row[data-plate="51F12345"]');
  await page.screenshot({ path: path.join(shots, "3-history.png") });

  // 7. language: English labels, and back
  await page.click("#lang");
  await waitText(page, '.tab[data-view="history"]', /History/, "English labels");
  await page.click('.tab[data-view="peers"]');
  await waitText(page, "#peers", /central-1/, "peers panel");
  await page.screenshot({ path: path.join(shots, "4-peers-en.png") });
  await page.click('.tab[data-view="dash"]');
  await waitText(page, "#c-exits .c-label", /Exits today/, "English counters");
  await page.click("#lang");
  await waitText(page, "#c-exits .c-label", /Xe ra hôm nay/, "Vietnamese again");

  // 8. phone size
  await page.setViewportSize({ width: 390, height: 844 });
  await sleep(200);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 2) fail("phone: the page is " + overflow + " px wider than the screen");
  await page.screenshot({ path: path.join(shots, "5-dashboard-phone.png"), fullPage: true });

  if (offOrigin.length) fail("requests to another origin: " + offOrigin.join(" "));
  const real = errors.filter((e) => !/401|403|Unauthorized|Forbidden/.test(e));
  if (real.length) fail("page errors: " + real.join(" | "));
  console.log("ok: console test passed; screenshots in " + shots);
}

try {
  await main();
} catch (e) {
  console.error(e.stack || String(e));
  process.exitCode = 1;
} finally {
  clearInterval(gateTimer);
  if (fakeGate) fakeGate.kill("SIGKILL");
  if (browser) await browser.close().catch(() => {});
  if (daemon) daemon.kill("SIGKILL");
  fs.rmSync(tmp, { recursive: true, force: true });
}
