/**
 * The delivery dashboard in a real browser: the chromium at CHROMIUM_PATH (Debian's by default) driven by playwright-core against
 * the real gateway (Redis, workers, API) listening on loopback, with loopback sinks as targets:
 * one healthy, one failing (500, one retry), one that asks for a pause (429 + Retry-After).
 * Screenshots of each step go to test-artifacts/dashboard/.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { BrowserContext, Page } from "playwright-core";
import { DASHBOARD_DIR } from "../../src/api/dashboard-api.ts";
import { CHROMIUM, CHROMIUM_MISSING, openBrowser } from "../helpers/chromium.ts";
import { useGateway } from "../helpers/fixture.ts";
import { waitUntil } from "../helpers/wait.ts";

const ARTIFACTS = new URL("../../test-artifacts/dashboard/", import.meta.url);

// The failing sink must not open a breaker: its deliveries fail on their own schedule.
const fx = useGateway({ HOOKGATE_BREAKER_FAILURES: "1000" });
let baseUrl = "";
let browser: Awaited<ReturnType<typeof openBrowser>> | undefined;
let context: BrowserContext | undefined;

const basic = (password: string) => `Basic ${Buffer.from(`admin:${password}`).toString("base64")}`;

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: new URL(name, ARTIFACTS).pathname, fullPage: true });
}

type Delivery = { id: string; routeId: string; status: string; attemptCount: number };

describe("dashboard page", () => {
  before(async () => {
    assert.ok(existsSync(join(DASHBOARD_DIR, "index.html")), "the page is not built: npm run build:web");
    assert.ok(existsSync(CHROMIUM), CHROMIUM_MISSING);
    await fx.gw.app.listen({ host: "127.0.0.1", port: 0 });
    baseUrl = `http://127.0.0.1:${(fx.gw.app.server.address() as AddressInfo).port}`;
    await mkdir(ARTIFACTS, { recursive: true });
    browser = await openBrowser(fx.gw.token);
    context = browser.context;
  });

  after(async () => {
    await browser?.close();
  });

  it("asks browsers for the admin token as HTTP Basic and serves the page with the playground's CSP", async () => {
    const { app, token } = fx.gw;
    const bare = await app.inject({ url: "/dashboard" });
    assert.equal(bare.statusCode, 301);
    assert.equal(bare.headers.location, "/dashboard/");
    const anonymous = await app.inject({ url: "/dashboard/" });
    assert.equal(anonymous.statusCode, 401);
    assert.match(String(anonymous.headers["www-authenticate"]), /^Basic realm="hookgate"/);
    assert.equal(anonymous.json().error.code, "HG_ERR_UNAUTHORIZED");
    assert.equal((await app.inject({ url: "/dashboard/session" })).statusCode, 401);
    const page = await app.inject({ url: "/dashboard/", headers: { authorization: basic(token) } });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers["content-security-policy"]), /script-src 'self'.*connect-src 'self'/);
    assert.equal(page.headers["cache-control"], "no-store");
    const session = await app.inject({ url: "/dashboard/session", headers: { authorization: basic(token) } });
    assert.deepEqual(session.json(), { token });
    const { json: openapi } = await fx.gw.call("GET", "/openapi.json");
    assert.deepEqual(
      Object.keys(openapi.paths).filter((p) => p.startsWith("/dashboard")),
      [],
    );
  });

  it("shows both routes' counts, a failed delivery's answer, retries it, and resumes a paused target", async () => {
    assert.ok(context);
    const { gw, sink } = fx;
    let downAnswers = true;
    sink.respond = (req) => {
      if (req.url.startsWith("/down"))
        return downAnswers
          ? { status: 500, body: "mailbox service down for maintenance" }
          : { status: 200, body: "ok" };
      if (
        req.url.startsWith("/pause") &&
        sink.requests.filter((r) => r.url.startsWith("/pause")).length === 1
      )
        return { status: 429, headers: { "retry-after": "3600" }, body: "slow down" };
      return { status: 200, body: "ok" };
    };
    const route = async (name: string, path: string, events: string[]) => {
      const res = await gw.call("POST", "/v1/routes", {
        name,
        events,
        target: { url: sink.url(path) },
        retry: { scheduleMs: [50] },
      });
      assert.equal(res.status, 201, JSON.stringify(res.json));
      return res.json.id as string;
    };
    const healthy = await route("crm (healthy)", "/ok", ["messageNew"]);
    const failing = await route("slack (failing)", "/down", ["messageNew"]);
    const pausing = await route("ticketing (asks to pause)", "/pause", ["bounce"]);
    for (let i = 0; i < 3; i++)
      assert.equal(
        (await gw.call("POST", "/v1/events", { id: `evt_dash_${i}`, type: "messageNew", data: { i } }))
          .status,
        202,
      );
    assert.equal(
      (await gw.call("POST", "/v1/events", { id: "evt_dash_bounce", type: "bounce", data: {} })).status,
      202,
    );

    const deliveries = async (): Promise<Delivery[]> =>
      (await gw.call("GET", "/v1/deliveries?limit=500")).json.deliveries;
    await waitUntil(async () => {
      const all = await deliveries();
      const final = all.filter(
        (d) => d.routeId !== pausing && (d.status === "succeeded" || d.status === "failed"),
      );
      return final.length === 6 && all.some((d) => d.routeId === pausing && d.status === "retrying");
    });
    // What the API says, once the recorder has added its counts (once a second).
    const apiTotals = async (routeId: string, want: object) =>
      waitUntil(async () => {
        const { json } = await gw.call("GET", `/v1/stats?routeId=${routeId}`);
        const { latencyMs: _l, ...counts } = json.totals;
        return JSON.stringify(counts) === JSON.stringify(want) ? json.totals : false;
      });
    const healthyApi = await apiTotals(healthy, { in: 3, delivered: 3, failed: 0, retrying: 0 });
    const failingApi = await apiTotals(failing, { in: 3, delivered: 0, failed: 3, retrying: 3 });

    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (err) => pageErrors.push(err.message));
    await page.goto(`${baseUrl}/dashboard`);
    assert.equal(new URL(page.url()).pathname, "/dashboard/");
    await page.locator("body[data-ready=true]").waitFor();
    const cell = (routeId: string, field: string) =>
      page.locator(`#routes tr[data-route-id="${routeId}"] td[data-field=${field}]`);
    const shown = async (routeId: string) =>
      Object.fromEntries(
        await Promise.all(
          ["in", "delivered", "failed", "retrying"].map(async (f) => [
            f,
            Number(await cell(routeId, f).textContent()),
          ]),
        ),
      );
    // The page polls: wait for the counts the API gave, then compare every figure.
    await cell(failing, "failed").filter({ hasText: /^3$/ }).waitFor();
    await cell(healthy, "delivered").filter({ hasText: /^3$/ }).waitFor();
    const healthyShown = await shown(healthy);
    const failingShown = await shown(failing);
    const { latencyMs: _h, ...healthyCounts } = healthyApi;
    const { latencyMs: _f, ...failingCounts } = failingApi;
    assert.deepEqual(healthyShown, healthyCounts);
    assert.deepEqual(failingShown, failingCounts);
    console.log(`# page ${JSON.stringify({ healthy: healthyShown, failing: failingShown })}`);
    console.log(`# api  ${JSON.stringify({ healthy: healthyApi, failing: failingApi })}`);
    assert.match(String(await cell(healthy, "state").textContent()), /^on$/);
    assert.match(String(await cell(pausing, "target").textContent()), /paused until/);
    assert.equal(await page.locator("#not-ready").isHidden(), true, "the gateway is ready");
    assert.equal(
      await page.locator("#routes tr[data-route-id] .spark > .uplot").count(),
      3,
      "a chart per route",
    );
    assert.equal(await page.locator("#chart > .uplot").count(), 1, "the over-time chart");
    await shot(page, "1-overview.png");

    // The failed deliveries of the failing route, then one of them.
    await page.locator("#f-route").selectOption(failing);
    await page.locator("#f-status").selectOption("failed");
    await page.locator("#delivery-filters button[type=submit]").click();
    const rows = page.locator("#deliveries tbody tr");
    // The filtered table replaces the unfiltered one (which has these three rows among others):
    // wait until only failed rows are left.
    await waitUntil(
      async () =>
        (await rows.count()) > 0 &&
        (await page.locator("#deliveries tbody tr:not([data-status=failed])").count()) === 0,
      15_000,
      "the filtered deliveries table",
    );
    assert.equal(await rows.count(), 3);
    assert.equal(await page.locator(`#deliveries tbody tr:not([data-route-id="${failing}"])`).count(), 0);
    assert.equal(await rows.first().locator("td").nth(2).textContent(), "slack (failing)");
    const failedId = String(
      await rows.first().locator("a[data-delivery-id]").getAttribute("data-delivery-id"),
    );
    await rows.first().locator("a[data-delivery-id]").click();
    const detail = page.locator("#delivery");
    await detail.locator("[data-field=status]", { hasText: "failed" }).waitFor();
    assert.equal(await detail.locator("#attempts li").count(), 2);
    assert.match(String(await detail.locator("#attempts li").first().textContent()), /HTTP 500/);
    assert.equal(
      await detail.locator("#attempts li [data-field=response]").first().textContent(),
      "mailbox service down for maintenance",
    );
    assert.match(String(await detail.textContent()), /version 1 \(current\)/);
    assert.match(
      String(await detail.locator("[data-field=request]").textContent()),
      /^POST http:\/\/127\.0\.0\.1:\d+\/down/,
    );
    await shot(page, "2-failed-delivery.png");

    // The receiver is back: retry from the page, confirmed in its dialog.
    downAnswers = false;
    await detail.locator("button[data-action=retry]").click();
    await page.locator("#confirm[open]").waitFor();
    await page.locator("#confirm-ok").click();
    await page
      .locator("#action-result[data-kind=ok]", { hasText: `Delivery ${failedId} queued again` })
      .waitFor();
    await detail.locator("[data-field=status]", { hasText: "succeeded" }).waitFor();
    const retried = (await gw.call("GET", `/v1/deliveries/${failedId}`)).json;
    assert.equal(retried.status, "succeeded");
    assert.equal(retried.attempts.length, 3);
    assert.equal(await detail.locator("#attempts li").count(), 3);
    await shot(page, "3-retried.png");

    // The paused target: resume from its route's row.
    const resume = page.locator(`#routes tr[data-route-id="${pausing}"] button[data-action=resume]`);
    await resume.click();
    await page.locator("#confirm[open]").waitFor();
    await page.locator("#confirm-ok").click();
    await page
      .locator("#action-result[data-kind=ok]", { hasText: /resumed: breaker closed, not paused/ })
      .waitFor();
    const { json: targets } = await gw.call("GET", "/v1/targets");
    const target = targets.targets.find((t: { routes: string[] }) => t.routes.includes(pausing));
    assert.equal(target.pausedUntil, null);
    // Its waiting delivery goes at once, and the row stops offering the resume.
    await waitUntil(async () =>
      (await deliveries()).some((d) => d.routeId === pausing && d.status === "succeeded"),
    );
    await cell(pausing, "delivered").filter({ hasText: /^1$/ }).waitFor();
    assert.equal(await resume.count(), 0);
    assert.doesNotMatch(String(await cell(pausing, "target").textContent()), /paused until/);
    await shot(page, "4-resumed.png");

    assert.deepEqual(pageErrors, []);
    await page.close();
  });
});
