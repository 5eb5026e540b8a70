// tests/browser/seed_ui_test.mjs — the seed's web UI's calls, from a page
// served by ANOTHER origin (another port), in Debian's Chromium: GET
// /api/status and /api/parking/history with fetch (CORS), a PUT (preflight;
// its 501 must be readable), and /ws/history derived from the HTTP base as
// the seed does (http -> ws), which must receive a history_update after an
// edge's event. Then the same page with CORS turned off: the browser blocks.
// Usage: node seed_ui_test.mjs PARKLOGD OUTDIR   (run.sh installs playwright-core)
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const [parklogd, outDir] = process.argv.slice(2);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "parklog-seedui."));
let daemon = null, browser = null, ui = null;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function fail(msg) { throw new Error("FAIL: " + msg); }
function freePort() {
  return new Promise((res) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => res(p)); });
  });
}

async function startDaemon(conf) {
  const port = await freePort(), p2p = await freePort(), gates = await freePort();
  const file = path.join(tmp, "parklogd.json");
  fs.writeFileSync(file, JSON.stringify(conf));
  const log = fs.openSync(path.join(outDir, "seed-ui-parklogd.log"), "a");
  daemon = spawn(parklogd, ["-f", file, "--data", path.join(tmp, "data-" + port),
    "--http", "127.0.0.1:" + port, "--p2p", "127.0.0.1:" + p2p, "--gates", "127.0.0.1:" + gates],
    { stdio: ["ignore", log, log] });
  const base = "http://127.0.0.1:" + port;
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(base + "/healthz")).ok) return base; } catch (e) { /* not yet */ }
    await sleep(100);
  }
  fail("parklogd did not start");
}

// The page: what the seed's UI does against its VITE_CENTRAL_URL.
const PAGE = `<!doctype html><meta charset="utf-8"><title>seed ui</title><script>
window.run = async (base) => {
  const out = {};
  try {
    const st = await fetch(base + "/api/status", { signal: AbortSignal.timeout(5000) });
    out.status = st.status; out.statusBody = await st.json();
    const h = await fetch(base + "/api/parking/history?limit=50&today_only=true");
    out.history = (await h.json()).history.length;
    const put = await fetch(base + "/api/parking/history/1", { method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ plate_id: "29A12345", plate_view: "29A-123.45" }) });
    out.put = put.status; out.putError = (await put.json()).error;
  } catch (e) { out.fetchError = String(e); return out; }
  out.ws = await new Promise((res) => {
    const ws = new WebSocket(base.replace(/^http/, "ws") + "/ws/history");
    const t = setTimeout(() => res("timeout"), 8000);
    ws.onopen = () => { window.wsOpen = true; };
    ws.onmessage = (m) => { const o = JSON.parse(m.data);
      if (o.type === "history_update") { clearTimeout(t); ws.close(); res(o.data); } };
    ws.onerror = () => { clearTimeout(t); res("error"); };
  });
  return out;
};
</script><p>seed ui</p>`;

async function main() {
  const uiPort = await freePort();
  ui = http.createServer((req, res) => { res.writeHead(200, { "Content-Type": "text/html" }); res.end(PAGE); })
    .listen(uiPort, "127.0.0.1");
  const origin = "http://127.0.0.1:" + uiPort;
  browser = await chromium.launchPersistentContext(path.join(tmp, "profile"), {
    executablePath: "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
  const page = browser.pages()[0] || await browser.newPage();

  // 1. the default configuration: the seed's UI works from its own origin
  let base = await startDaemon({ id: "central-1" });
  await page.goto(origin + "/");
  const running = page.evaluate((b) => window.run(b), base);
  await page.waitForFunction(() => window.wsOpen === true, null, { timeout: 10000 });
  const ev = { type: "ENTRY", camera_id: 1, camera_name: "Cổng A", camera_type: "ENTRY",
    timestamp: Date.now() / 1000, event_id: "edge-1_x_29A12345",
    data: { plate_id: "29A12345", plate_text: "29A-123.45", confidence: 0.9, source: "auto" } };
  const r = await fetch(base + "/api/edge/event", { method: "POST",
    headers: { "Content-Type": "application/json" }, body: JSON.stringify(ev) });
  if (r.status !== 200) fail("edge event: " + r.status);
  const out = await running;
  if (out.fetchError) fail("fetch from another origin: " + out.fetchError);
  if (out.status !== 200 || !out.statusBody.success) fail("status: " + JSON.stringify(out));
  if (out.put !== 400 || !/not an event id/.test(out.putError)) fail("PUT: " + JSON.stringify(out));
  if (typeof out.ws !== "object" || out.ws.plate_id !== "29A12345" || out.ws.event_type !== "ENTRY")
    fail("/ws/history: " + JSON.stringify(out.ws));
  await page.screenshot({ path: path.join(outDir, "seed-ui.png") });
  daemon.kill("SIGKILL");

  // 2. CORS off ("cors_origins": []): the browser refuses the same calls
  base = await startDaemon({ id: "central-1", seed: { cors_origins: [] } });
  const off = await page.evaluate((b) => window.run(b), base);
  if (!off.fetchError) fail("CORS off but the page read " + JSON.stringify(off));
  console.log("ok: the seed's UI calls work from another origin");
}

try {
  await main();
} catch (e) {
  console.error(e.stack || String(e));
  process.exitCode = 1;
} finally {
  if (browser) await browser.close().catch(() => {});
  if (daemon) daemon.kill("SIGKILL");
  if (ui) ui.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}
