/**
 * The dry-run playground in a real browser: the chromium at CHROMIUM_PATH (Debian's by default) driven by playwright-core against the
 * real gateway (Redis, sandbox, API) listening on loopback, with a loopback sink as the route's
 * target. Screenshots of each step go to test-artifacts/playground/.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { BrowserContext, Locator, Page } from "playwright-core";
import { PLAYGROUND_DIR } from "../../src/api/playground-api.ts";
import { CHROMIUM, CHROMIUM_MISSING, openBrowser } from "../helpers/chromium.ts";
import { useGateway } from "../helpers/fixture.ts";

const ARTIFACTS = new URL("../../test-artifacts/playground/", import.meta.url);

const fx = useGateway();
let baseUrl = "";
let browser: Awaited<ReturnType<typeof openBrowser>> | undefined;
let context: BrowserContext | undefined;

const basic = (password: string) => `Basic ${Buffer.from(`admin:${password}`).toString("base64")}`;

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: new URL(name, ARTIFACTS).pathname, fullPage: true });
}

const text = async (locator: Locator) => (await locator.textContent()) ?? "";

/** Replaces an editor's whole text the way a paste does (select all, insert). */
async function typeInto(page: Page, editor: string, value: string): Promise<void> {
  await page.locator(`${editor} .cm-content`).fill(value);
}

describe("playground page", () => {
  // Inside the suite: root-level before hooks of one file run concurrently, and these need the gateway.
  before(async () => {
    assert.ok(existsSync(join(PLAYGROUND_DIR, "index.html")), "the page is not built: npm run build:web");
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

  it("asks browsers for the admin token as HTTP Basic and keeps /v1 on bearer tokens", async () => {
    const { app, token } = fx.gw;
    const bare = await app.inject({ url: "/playground" });
    assert.equal(bare.statusCode, 301);
    assert.equal(bare.headers.location, "/playground/");

    const anonymous = await app.inject({ url: "/playground/" });
    assert.equal(anonymous.statusCode, 401);
    assert.match(String(anonymous.headers["www-authenticate"]), /^Basic realm="hookgate"/);
    assert.equal(anonymous.json().error.code, "HG_ERR_UNAUTHORIZED");
    const wrong = await app.inject({
      url: "/playground/",
      headers: { authorization: basic("not-the-token") },
    });
    assert.equal(wrong.statusCode, 401);

    const page = await app.inject({ url: "/playground/", headers: { authorization: basic(token) } });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers["content-type"]), /^text\/html/);
    assert.match(String(page.headers["content-security-policy"]), /script-src 'self'/);
    assert.equal(page.headers["cache-control"], "no-store");
    const asset = /src="\.\/(assets\/[^"]+\.js)"/.exec(page.body)?.[1];
    assert.ok(asset, "the page loads its script from ./assets/");
    const script = await app.inject({
      url: `/playground/${asset}`,
      headers: { authorization: basic(token) },
    });
    assert.equal(script.statusCode, 200);
    assert.match(String(script.headers["cache-control"]), /immutable/);

    const session = await app.inject({
      url: "/playground/session",
      headers: { authorization: basic(token) },
    });
    assert.equal(session.statusCode, 200);
    assert.deepEqual(session.json(), { token });
    assert.equal(session.headers["cache-control"], "no-store");
    assert.equal((await app.inject({ url: "/playground/session" })).statusCode, 401);

    // The API takes no browser credentials: Basic is refused there.
    const api = await app.inject({ url: "/v1/routes", headers: { authorization: basic(token) } });
    assert.equal(api.statusCode, 401);
    assert.equal(api.headers["www-authenticate"], undefined);

    assert.equal(
      (await app.inject({ url: "/playground/nope.js" })).statusCode,
      401,
      "not even a 404 without the token",
    );
    const missing = await app.inject({
      url: "/playground/nope.js",
      headers: { authorization: basic(token) },
    });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error.code, "HG_ERR_NOT_FOUND");

    const { json: openapi } = await fx.gw.call("GET", "/openapi.json");
    assert.deepEqual(
      Object.keys(openapi.paths).filter((p) => p.startsWith("/playground")),
      [],
      "the page's routes are not part of the API description",
    );
  });

  it("edits, flags a syntax error at its line, runs, previews the Slack message and saves", async () => {
    assert.ok(context);
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (err) => pageErrors.push(err.message));
    await page.goto(`${baseUrl}/playground`);
    assert.equal(new URL(page.url()).pathname, "/playground/");
    await page.locator("body[data-ready=true]").waitFor();
    await shot(page, "1-loaded.png");

    // Every sample event of the email systems is offered.
    const { json: samples } = await fx.gw.call("GET", "/v1/sources/samples");
    assert.equal(await page.locator("#event option[value$='.json']").count(), samples.samples.length);
    await page.locator("#event").selectOption("mailtrap/bounce.json");
    assert.match(await text(page.locator("#event-editor .cm-content")), /"event": "bounce"/);
    await page.locator("#event").selectOption("emailengine/messageNew.json");
    assert.match(await text(page.locator("#event-editor .cm-content")), /Invoice 1043/);

    const targetUrl = fx.sink.url("/slack");
    await page.locator("#route-name").fill("invoices to slack (playground)");
    await page.locator("#route-events").fill("messageNew");
    await page.locator("#route-target").fill(targetUrl);
    await page.locator("#template-kind").selectOption("slack");

    const broken = [
      "export default (event) => {",
      '  console.log("subject:", event.data.data.subject);',
      '  return event.type === "messageNew" &&;',
      "};",
    ].join("\n");
    await typeInto(page, "#filter-editor", broken);
    const lines = page.locator("#filter-editor .cm-line");
    await lines.nth(2).locator(".cm-lintRange-error").first().waitFor();
    for (const i of [0, 1, 3]) assert.equal(await lines.nth(i).locator(".cm-lintRange-error").count(), 0);
    // The gateway compiles it with V8 too, and names the same line.
    await page.locator("#run").click();
    await page.locator("[data-testid=errors]", { hasText: "HG_ERR_FUNCTION_SYNTAX" }).waitFor();
    assert.match(await text(page.locator("[data-testid=errors]")), /filter, line 3, column \d+/);
    await shot(page, "2-syntax-error.png");

    const fixed = broken.replace("&&;", '&& /invoice/i.test(event.data.data.subject ?? "");');
    await typeInto(page, "#filter-editor", fixed);
    await page.locator("#filter-editor .cm-lintRange-error").first().waitFor({ state: "detached" });

    await page.locator("#run").click();
    await page.locator("[data-testid=matched]", { hasText: /^matched$/ }).waitFor();
    assert.match(await text(page.locator("[data-testid=filter-result]")), /filter → true/);
    assert.match(await text(page.locator("[data-testid=console]")), /filter │ \[log\] subject: Invoice 1043/);
    const slack = page.locator("[data-testid=slack-preview]");
    await slack.waitFor();
    assert.match(await text(slack.locator(".sk-header").first()), /Invoice 1043/);
    assert.match(await text(slack), /Ada Lovelace/);
    const request = await text(page.locator("#request"));
    assert.match(request, new RegExp(`POST ${targetUrl.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    assert.match(request, /webhook-signature\s*v1,/);
    await shot(page, "3-slack-preview.png");

    await page.locator("#save").click();
    await page.locator("#status", { hasText: /^Created rte_/ }).waitFor();
    assert.match(await text(page.locator("[data-testid=secret]")), /^whsec_/);
    await shot(page, "4-saved.png");

    const { json: list } = await fx.gw.call("GET", "/v1/routes");
    assert.equal(list.routes.length, 1);
    const [route] = list.routes;
    assert.equal(route.name, "invoices to slack (playground)");
    assert.deepEqual(route.events, ["messageNew"]);
    assert.equal(route.filter, fixed);
    assert.equal(route.map, null);
    assert.deepEqual(route.template, { kind: "slack" });
    assert.equal(route.target.url, targetUrl);
    assert.equal(await page.locator("#route").inputValue(), route.id);

    // Saving again sends only the function that changed.
    const map = "export default (event) => ({ text: `Invoice from ${event.data.data.from.address}` });";
    await typeInto(page, "#map-editor", map);
    await page.locator("#save").click();
    await page.locator("#status", { hasText: `Saved ${route.id} (version 2): map` }).waitFor();
    const { json: saved } = await fx.gw.call("GET", `/v1/routes/${route.id}`);
    assert.equal(saved.map, map);
    assert.equal(saved.filter, fixed);

    // The saved, unchanged route runs by id; the map's Slack message is what the preview shows.
    await page.locator("#run").click();
    await page.locator("[data-testid=slack-preview]", { hasText: "Invoice from ada@example.com" }).waitFor();
    assert.doesNotMatch(await text(page.locator("#request")), /throwaway secret/);

    // Your own event: the editor starts from the event the last run walked.
    await page.locator("#event").selectOption("custom");
    assert.match(await text(page.locator("#event-editor .cm-content")), /"source": "src_sample"/);
    const own = {
      type: "messageNew",
      data: { data: { subject: "Invoice 7", from: { address: "bob@example.com" } } },
    };
    await typeInto(page, "#event-editor", JSON.stringify(own, null, 2));
    await page.locator("#run").click();
    await page.locator("[data-testid=slack-preview]", { hasText: "Invoice from bob@example.com" }).waitFor();
    assert.match(await text(page.locator("#event-out")), /"subject": "Invoice 7"/);
    await page.locator("#event").selectOption("emailengine/messageNew.json");

    // A Discord embed with its colour bar.
    await page.locator("#template-kind").selectOption("discord");
    await typeInto(page, "#map-editor", "");
    await page.locator("#run").click();
    const embed = page.locator("[data-testid=discord-embed]").first();
    await embed.waitFor();
    assert.match(await text(embed), /Invoice 1043/);
    assert.match(String(await embed.getAttribute("style")), /border-left-color: rgb\(/);
    assert.match(await text(page.locator("#request")), /throwaway secret/);
    await shot(page, "5-discord-preview.png");

    assert.equal(fx.sink.requests.length, 0, "the dry-run sends nothing");
    assert.deepEqual(pageErrors, []);
    await page.close();
  });

  it("lists a route's versions, diffs a filter against the current one and rolls back", async () => {
    assert.ok(context);
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on("pageerror", (err) => pageErrors.push(err.message));
    const dialogs: string[] = [];
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.accept();
    });
    await page.goto(`${baseUrl}/playground/`);
    await page.locator("body[data-ready=true]").waitFor();
    await page.locator("#route").selectOption("");
    assert.equal(await page.locator("#versions-toggle").isDisabled(), true, "a new route has no versions");

    const first = 'export default (event) => event.type === "messageBounce";';
    const second = 'export default (event) => event.type === "messageComplaint";';
    await page.locator("#route-name").fill("bounces (versions)");
    await page.locator("#route-target").fill(fx.sink.url("/bounces"));
    await typeInto(page, "#filter-editor", first);
    await page.locator("#save").click();
    await page.locator("#status", { hasText: /^Created rte_/ }).waitFor();
    const id = await page.locator("#route").inputValue();
    await typeInto(page, "#filter-editor", second);
    await page.locator("#save").click();
    await page.locator("#status", { hasText: `Saved ${id} (version 2): filter` }).waitFor();

    await page.locator("#versions-toggle").click();
    const list = page.locator("#version-list");
    await list.locator("button[data-version='1']").waitFor();
    assert.match(
      await text(list.locator("button[data-version='2']")),
      /v2 \(current\) · .+ · admin · filter$/,
    );
    assert.match(await text(list.locator("button[data-version='1']")), /v1 · .+ · admin · created$/);
    await list.locator("button[data-version='1']").click();
    const filterDiff = page.locator("[data-testid=diff-filter]");
    await filterDiff.locator(".diff-removed").waitFor();
    assert.equal(await text(filterDiff.locator(".diff-removed")), `- ${first}`);
    assert.equal(await text(filterDiff.locator(".diff-added")), `+ ${second}`);
    assert.match(await text(page.locator("[data-testid=diff-map]")), /map unchanged/);
    await shot(page, "6-versions-diff.png");

    await page.locator("[data-testid=rollback]").click();
    await page.locator("#status", { hasText: `Rolled ${id} back: now version 3` }).waitFor();
    assert.deepEqual(dialogs, ["Roll bounces (versions) back to version 1? It is stored as a new version."]);
    assert.equal(await text(page.locator("#filter-editor .cm-content")), first);
    // The open panel follows the route: the rollback is the newest version.
    await list.locator("button[data-version='3']", { hasText: "rollback to 1: filter" }).waitFor();
    await shot(page, "7-rolled-back.png");
    const { json: route } = await fx.gw.call("GET", `/v1/routes/${id}`);
    assert.equal(route.version, 3);
    assert.equal(route.filter, first);

    assert.equal(fx.sink.requests.length, 0);
    assert.deepEqual(pageErrors, []);
    await page.close();
  });
});
