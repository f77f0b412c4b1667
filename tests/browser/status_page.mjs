// The admin listener's status page in a real headless chromium: a gateway
// is started with a route to a dead upstream, a mirror to it and a token
// quota; traffic is sent; the page is loaded and the numbers on it checked.
//
//   node tests/browser/status_page.mjs [DRAGOMAN_BINARY]
//
// PLAYWRIGHT_DIR: where `npm ci` installed this directory's package.json
// (default target/browser); CHROMIUM: the browser (default /usr/bin/chromium);
// SCREENSHOT=FILE: also saves the page, as docs/status-page.png shows it.
// Exits non-zero, saying what is wrong, when the page is.

import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";

const repo = resolve(import.meta.dirname, "../..");
const binary = process.argv[2] || join(repo, "target/debug/dragoman");
const require = createRequire(join(resolve(process.env.PLAYWRIGHT_DIR || join(repo, "target/browser")), "package.json"));
const { chromium } = require("playwright-core");

const work = mkdtempSync(join(tmpdir(), "dragoman-status-page-"));
const config = join(work, "dragoman.toml");
// port 9 is closed: the upstream "dead" refuses every connection
writeFileSync(config, `
[[upstream]]
name = "dead"
dialect = "hostway"
url = "http://127.0.0.1:9"
scope = "demo"
[upstream.credentials]
user = "demo"
password = "demo"

[[route]]
edge = "hostway"
backend = "memory"
mirror = "dead"

[[route]]
edge = "foreman"
backend = "dead"

[rate_limit]
tokens = { requests = 1, per_secs = 3600, burst = 1 }
`);

let gateway;
let browser;
const failures = [];
const expect = (what, got, want) => {
  if (String(got) !== String(want)) failures.push(`${what}: ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
};

/** Starts the gateway; resolves with its edge and admin URLs from its banner. */
function start() {
  gateway = spawn(binary, ["--config", config, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, RUST_LOG: "dragoman=error" },
  });
  return new Promise((done, fail) => {
    const urls = {};
    gateway.on("exit", code => fail(new Error(`dragoman exited (${code}) before its banner`)));
    createInterface({ input: gateway.stdout }).on("line", line => {
      const edge = line.match(/^# dragoman listening on (http:\/\/\S+)/);
      const admin = line.match(/^# admin listening on (http:\/\/\S+)/);
      if (edge) urls.edge = edge[1];
      if (admin) urls.admin = admin[1];
      if (urls.edge && urls.admin) done(urls);
    });
  });
}

const basic = { authorization: "Basic " + Buffer.from("demo:demo").toString("base64") };

async function traffic(edge) {
  const statuses = [];
  const get = async path => statuses.push((await fetch(edge + path, { headers: basic })).status);
  for (let i = 0; i < 7; i++) await get("/accounts/demo/flexcloud/images/133");
  for (let i = 0; i < 3; i++) await get("/accounts/demo/flexcloud/images/424242");
  for (let i = 0; i < 2; i++) await get("/api/compute_resources/1/images/1");
  const login = JSON.stringify({ auth: { identity: { methods: ["password"], password: { user:
    { name: "demo", domain: { id: "default" }, password: "demo" } } } } });
  for (let i = 0; i < 2; i++) {
    const answer = await fetch(edge + "/v3/auth/tokens", { method: "POST", body: login,
      headers: { "content-type": "application/json" } });
    statuses.push(answer.status);
  }
  return statuses;
}

/** The texts of a table's rows, by row key, each a map of cell class to text. */
function table(page, id) {
  return page.$$eval(`#${id} tbody tr`, rows => Object.fromEntries(rows.map(tr => [tr.dataset.key,
    Object.fromEntries([...tr.children].flatMap(td => td.className.split(" ").filter(Boolean).map(c => [c, td.textContent])))])));
}

try {
  const { edge, admin } = await start();
  const statuses = await traffic(edge);
  expect("statuses sent", statuses.join(" "), "200 200 200 200 200 200 200 404 404 404 503 503 201 429");
  // a reload with the same file: one line of history
  gateway.kill("SIGHUP");

  // a fresh profile each run (the --user-data-dir playwright passes)
  browser = await chromium.launchPersistentContext(join(work, "profile"), {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1000, height: 900 },
  });
  const page = browser.pages()[0] || await browser.newPage();
  const offline = [];
  page.on("request", r => { if (!r.url().startsWith(admin)) offline.push(r.url()); });
  await page.goto(admin + "/");
  // the second poll gives rates; the mirror's work and the reload are in by then
  await page.waitForFunction(() => {
    const rate = document.querySelector('#pairs tr[data-key="hostway memory"] .rate');
    const mirror = document.querySelector('#mirror tr[data-key="hostway:*"] .error');
    const reload = document.querySelector("#reloads .result");
    return rate && rate.textContent !== "–" && mirror && mirror.textContent === "10" && reload;
  }, null, { timeout: 20000 });

  const pairs = await table(page, "pairs");
  const hostway = pairs["hostway memory"] || {};
  expect("hostway × memory requests", hostway.requests, 10);
  expect("hostway × memory 4xx", hostway["client-errors"], 3);
  expect("hostway × memory 5xx", hostway.errors, 0);
  expect("hostway × memory p99 is a number", Number.isFinite(Number(hostway.p99)), true);
  const foreman = pairs["foreman dead"] || {};
  expect("foreman × dead requests", foreman.requests, 2);
  expect("foreman × dead 5xx", foreman.errors, 2);
  const keystone = Object.entries(pairs).filter(([key]) => key.startsWith("keystone ")).map(([, p]) => Number(p.requests));
  expect("keystone requests", keystone.reduce((a, b) => a + b, 0), 2);

  const upstreams = await table(page, "upstreams");
  expect("upstream dead readiness", (upstreams.dead || {}).ready?.startsWith("not ready"), true);
  expect("upstream dead failed calls", /connect \d+/.test((upstreams.dead || {}).failed), true);
  expect("overall state", await page.textContent("#state"), "not ready");

  const quotas = await table(page, "quotas");
  expect("token quota refusals", (quotas.tokens || {}).refused, 1);

  const reloads = await table(page, "reloads");
  expect("reload history", Object.values(reloads).map(r => r.result).join(","), "reloaded");

  const mirror = (await table(page, "mirror"))["hostway:*"] || {};
  expect("mirror same", mirror.same, 0);
  expect("mirror error", mirror.error, 10);
  expect("mirror dropped", mirror.dropped, 0);

  expect("requests to anywhere but the admin listener", offline.join(" "), "");

  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });

  // readable on a phone: nothing wider than the screen but the tables' own scrolling boxes
  await page.setViewportSize({ width: 390, height: 844 });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  expect("page width on a 390 px phone", wide <= 390, true);
} catch (e) {
  failures.push(e.stack || String(e));
} finally {
  if (browser) await browser.close();
  if (gateway) gateway.kill("SIGTERM");
  rmSync(work, { recursive: true, force: true });
}

if (failures.length) {
  console.error("status page: FAILED\n  " + failures.join("\n  "));
  process.exit(1);
}
console.log("status page: ok");
process.exit(0);
