import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { freePort, type RedisServer, startRedisServer } from "../helpers/redis-server.ts";

/**
 * `hookgate routes …` as a user runs it: the bin entry in a child process, against a real
 * gateway over HTTP. The gateway runs the API role only, so no route saved here can deliver.
 */

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "bin/hookgate.js");

let redis: RedisServer;
let gw: TestGateway;
let url: string;
let work: string;

before(async () => {
  redis = await startRedisServer({ appendonly: false });
  gw = await startTestGateway(redis.url, { HOOKGATE_ROLE: "api" });
  url = await gw.app.listen({ port: 0, host: "127.0.0.1" });
  work = await mkdtemp(join(tmpdir(), "hookgate-cli-"));
});

after(async () => {
  await gw?.close();
  await redis?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  out: string;
  err: string;
}

function cli(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, "routes", ...args], {
      cwd: options.cwd ?? ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        HOOKGATE_URL: url,
        HOOKGATE_ADMIN_TOKEN: gw.token,
        ...options.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c;
    });
    child.stderr.on("data", (c: Buffer) => {
      err += c;
    });
    child.on("error", fail);
    child.on("close", (code) => done({ code, out, err }));
  });
}

const lines = (text: string) => text.split("\n").filter(Boolean);
const exampleFiles = async () =>
  (await readdir(join(ROOT, "routes"))).filter((f) => f.endsWith(".json")).sort();
interface LiveRoute {
  id: string;
  name: string;
  events: string[];
  filter: string | null;
  target: { timeoutMs: number };
}
const liveRoutes = async () => (await gw.call("GET", "/v1/routes")).json.routes as LiveRoute[];

async function clearRoutes() {
  for (const r of await liveRoutes()) await gw.call("DELETE", `/v1/routes/${r.id}`);
}

/** A copy of routes/ and functions/ to change freely (route files name functions as ../functions/…). */
async function copyOfExamples(name: string): Promise<string> {
  const dir = join(work, name);
  await cp(join(ROOT, "routes"), join(dir, "routes"), { recursive: true });
  await cp(join(ROOT, "functions"), join(dir, "functions"), { recursive: true });
  return dir;
}

describe("hookgate routes", () => {
  it("validates the example routes offline", async () => {
    const run = await cli(["validate"], { env: { HOOKGATE_URL: "http://127.0.0.1:1" } });
    assert.equal(run.code, 0, run.err);
    const files = await exampleFiles();
    for (const f of files) assert.match(run.out, new RegExp(`^ok +routes/${f.replace(".", "\\.")} `, "m"));
    assert.match(run.out, new RegExp(`^${files.length} valid, 0 invalid$`, "m"));
  });

  it("names each problem of an invalid file and exits 1", async () => {
    const dir = join(work, "invalid");
    await mkdir(join(dir, "routes"), { recursive: true });
    await cp(join(ROOT, "routes/vip-to-slack.json"), join(dir, "routes/good.json"));
    await cp(join(ROOT, "functions"), join(dir, "functions"), { recursive: true });
    const write = (name: string, route: unknown) =>
      writeFile(join(dir, "routes", name), JSON.stringify(route));
    await write("syntax.json", {
      name: "s",
      filter: "export default (e) => {",
      target: { url: "https://x.example/" },
    });
    await write("loopback.json", { name: "l", target: { url: "http://127.0.0.1:9/hook" } });
    await write("unknown.json", { name: "u", colour: "red", target: { url: "https://x.example/" } });
    await write("hidden.json", {
      name: "h",
      target: { url: "https://x.example/", headers: { Authorization: "[redacted]" } },
    });
    await write("zz-dup.json", { name: "VIP mail to Slack", target: { url: "https://x.example/" } });
    const run = await cli(["validate"], { cwd: dir });
    assert.equal(run.code, 1);
    assert.match(run.out, /^ok +routes\/good\.json/m);
    assert.match(run.err, /^invalid +routes\/syntax\.json: filter: .*line 1/m);
    assert.match(run.err, /^invalid +routes\/loopback\.json: target\.url: .*loopback/m);
    assert.match(run.err, /^invalid +routes\/unknown\.json: .*colour/m);
    assert.match(run.err, /^invalid +routes\/hidden\.json: target\.headers\.Authorization/m);
    assert.match(
      run.err,
      /^invalid +routes\/zz-dup\.json: the name "VIP mail to Slack" is also used by routes\/good\.json/m,
    );
    assert.match(run.out, /^1 valid, 5 invalid$/m);
  });

  it("exits 2 on a usage error, with the usage", async () => {
    const run = await cli(["destroy"]);
    assert.equal(run.code, 2);
    assert.match(run.err, /unknown command "routes destroy"/);
    assert.match(run.err, /^Usage: hookgate routes <command>/m);
  });

  it("plans, applies, and then plans nothing to do", async () => {
    await clearRoutes();
    const files = await exampleFiles();
    const plan = await cli(["plan"]);
    assert.equal(plan.code, 0, plan.err);
    assert.equal(lines(plan.out).filter((l) => l.startsWith("create ")).length, files.length);
    assert.equal((await liveRoutes()).length, 0, "plan changes nothing");

    const apply = await cli(["apply"]);
    assert.equal(apply.code, 0, apply.err + apply.out);
    const progress = lines(apply.out).filter((l) => /^\[\s*\d+\/\d+\] created/.test(l));
    assert.equal(progress.length, files.length);
    assert.match(
      progress[0] ?? "",
      new RegExp(`^\\[1/${files.length}\\] created .*signing secret \\(shown once\\): whsec_`),
    );

    const live = await liveRoutes();
    const names = await Promise.all(
      files.map(async (f) => JSON.parse(await readFile(join(ROOT, "routes", f), "utf8")).name as string),
    );
    assert.deepEqual(
      live.map((r) => r.name),
      names,
      "created in file order, so the walk order follows the files",
    );
    const vip = live.find((r) => r.name === "VIP mail to Slack");
    assert.equal(vip?.filter, await readFile(join(ROOT, "functions/is-vip.js"), "utf8"));

    const again = await cli(["plan"]);
    assert.equal(again.code, 0, again.err);
    assert.equal(lines(again.out).filter((l) => l.startsWith("unchanged ")).length, files.length);
    assert.match(
      again.out,
      new RegExp(`0 to create, 0 to update, 0 not in files .*, ${files.length} unchanged`),
    );
  });

  it("updates what changed on either side and prunes only when asked", async () => {
    const dir = await copyOfExamples("changed");
    const invoices = join(dir, "routes/invoices-to-billing.json");
    const route = JSON.parse(await readFile(invoices, "utf8"));
    await writeFile(invoices, JSON.stringify({ ...route, events: ["messageNew", "NEW_EMAIL"] }));
    await rm(join(dir, "routes/hard-bounces.json"));
    const discord = (await liveRoutes()).find((r) => r.name === "bounces to Discord");
    await gw.call("PATCH", `/v1/routes/${discord?.id}`, { target: { timeoutMs: 1234 } });

    const plan = await cli(["plan"], { cwd: dir });
    assert.equal(plan.code, 0, plan.err);
    assert.match(plan.out, /^update +"invoices to billing" +routes\/invoices-to-billing\.json +\(events\)$/m);
    assert.match(plan.out, /^update +"bounces to Discord" .*\(target\)$/m);
    assert.match(plan.out, /^delete +"hard bounces to the CRM" +rte_\S+ +\(only with --prune\)$/m);

    const kept = await cli(["apply"], { cwd: dir });
    assert.equal(kept.code, 0, kept.out);
    assert.ok(
      (await liveRoutes()).some((r) => r.name === "hard bounces to the CRM"),
      "no --prune: kept",
    );
    const live = await liveRoutes();
    assert.deepEqual(live.find((r) => r.name === "invoices to billing")?.events, ["messageNew", "NEW_EMAIL"]);
    assert.equal(live.find((r) => r.name === "bounces to Discord")?.target.timeoutMs, 10_000);

    const pruned = await cli(["apply", "--prune"], { cwd: dir });
    assert.equal(pruned.code, 0, pruned.out);
    assert.match(pruned.out, /deleted +"hard bounces to the CRM"/);
    assert.ok(!(await liveRoutes()).some((r) => r.name === "hard bounces to the CRM"));
    const settled = await cli(["plan"], { cwd: dir });
    assert.match(settled.out, /0 to create, 0 to update, 0 not in files/);
  });

  it("reports a route the gateway refuses and applies the others", async () => {
    await clearRoutes();
    const dir = join(work, "refused");
    await mkdir(dir, { recursive: true });
    const write = (name: string, route: unknown) => writeFile(join(dir, name), JSON.stringify(route));
    await cp(join(ROOT, "routes/bounces-to-discord.json"), join(dir, "a.json"));
    // Allowed by this shell's HOOKGATE_TARGET_ALLOW, not by the gateway's (127.0.0.1/32).
    await write("b.json", { name: "loopback two", target: { url: "http://127.0.0.2:9/hook" } });
    await write("c.json", { name: "third", target: { url: "https://x.example/" } });
    const run = await cli(["apply", dir], { env: { HOOKGATE_TARGET_ALLOW: "127.0.0.0/8" } });
    assert.equal(run.code, 1);
    assert.match(run.out, /^\[2\/3\] failed +"loopback two" .*HG_ERR_TARGET_BLOCKED/m);
    assert.match(run.out, /^\[3\/3\] created +"third"/m);
    assert.deepEqual(
      (await liveRoutes()).map((r) => r.name),
      ["bounces to Discord", "third"],
    );
  });

  it("exports the live routes to files that validate and plan as unchanged", async () => {
    await clearRoutes();
    assert.equal((await cli(["apply"])).code, 0);
    const dir = join(work, "exported");
    const run = await cli(["export", "--dir", join(dir, "routes")]);
    assert.equal(run.code, 0, run.err);
    const files = await exampleFiles();
    assert.equal(lines(run.out).filter((l) => /^\[\s*\d+\/\d+\] wrote /.test(l)).length, files.length);
    assert.equal((await readdir(join(dir, "routes"))).length, files.length);

    const validate = await cli(["validate"], { cwd: dir });
    assert.equal(validate.code, 0, validate.err);
    const plan = await cli(["plan"], { cwd: dir });
    assert.equal(plan.code, 0, plan.err);
    assert.equal(lines(plan.out).filter((l) => l.startsWith("unchanged ")).length, files.length, plan.out);

    const vip = JSON.parse(await readFile(join(dir, "routes/vip-mail-to-slack.json"), "utf8"));
    assert.equal(vip.filterFile, "../functions/vip-mail-to-slack.filter.js");
    assert.equal(
      await readFile(join(dir, "functions/vip-mail-to-slack.filter.js"), "utf8"),
      await readFile(join(ROOT, "functions/is-vip.js"), "utf8"),
    );
    const bounce = JSON.parse(await readFile(join(dir, "routes/hard-bounces-to-the-crm.json"), "utf8"));
    assert.equal(
      bounce.filterFile,
      "../functions/hard-bounces-to-the-crm.filter.body.js",
      "a body is not a module",
    );

    // Over a checkout: each route goes back into the file that holds it, with its function files.
    const copy = await copyOfExamples("export-in-place");
    const inPlace = await cli(["export"], { cwd: copy });
    assert.equal(inPlace.code, 0, inPlace.err);
    assert.deepEqual((await readdir(join(copy, "routes"))).sort(), files);
    assert.deepEqual(
      (await readdir(join(copy, "functions"))).sort(),
      (await readdir(join(ROOT, "functions"))).sort(),
    );
    assert.equal((await cli(["plan"], { cwd: copy })).out.match(/^unchanged /gm)?.length, files.length);
  });

  it("an export of what was applied from files leaves those files byte for byte as they were", async () => {
    await clearRoutes();
    assert.equal((await cli(["apply"])).code, 0);
    const copy = await copyOfExamples("export-same");
    const run = await cli(["export", "--dir", "routes"], { cwd: copy });
    assert.equal(run.code, 0, run.err);
    const files = await exampleFiles();
    assert.equal(
      lines(run.out).filter((l) => / same {3}.*\(left as it is\)$/.test(l)).length,
      files.length,
      run.out,
    );
    for (const dir of ["routes", "functions"]) {
      for (const name of await readdir(join(ROOT, dir))) {
        const original = await readFile(join(ROOT, dir, name));
        assert.ok(original.equals(await readFile(join(copy, dir, name))), `${dir}/${name} is as it was`);
      }
    }

    // One route changed live: only its file is written, and only the changed line differs.
    const invoices = (await liveRoutes()).find((r) => r.name === "invoices to billing");
    assert.ok(invoices);
    const patched = await gw.call("PATCH", `/v1/routes/${invoices.id}`, { target: { timeoutMs: 7000 } });
    assert.equal(patched.status, 200);
    const again = await cli(["export", "--dir", "routes"], { cwd: copy });
    assert.equal(again.code, 0, again.err);
    assert.equal(lines(again.out).filter((l) => / wrote /.test(l)).length, 1, again.out);
    const before = await readFile(join(ROOT, "routes/invoices-to-billing.json"), "utf8");
    assert.equal(
      await readFile(join(copy, "routes/invoices-to-billing.json"), "utf8"),
      before.replace('"timeoutMs": 5000', '"timeoutMs": 7000'),
    );
  });

  it("dry-runs the example routes on sample events through the gateway", async () => {
    const cases: [file: string, input: string[], fires: boolean][] = [
      // The README's own command.
      ["vip-to-slack.json", ["--sample", "emailengine/messageNew"], true],
      ["vip-to-slack.json", ["--event", "test/fixtures/events/emailengine-message-new.json"], true],
      ["vip-to-slack.json", ["--event", "test/fixtures/events/emailengine-message-bounce.json"], false],
      ["invoices-to-billing.json", ["--event", "test/fixtures/events/emailengine-message-new.json"], true],
      ["hard-bounces.json", ["--sample", "emailengine/messageBounce"], true],
      ["hard-bounces.json", ["--sample", "mailtrap/bounce.json"], true],
      ["bounces-to-discord.json", ["--sample", "mailtrap/bounce"], true],
      ["bounces-to-discord.json", ["--sample", "emailengine/messageNew"], false],
      ["mail-to-internal-api.json", ["--sample", "emailengine/messageNew.json"], true],
    ];
    for (const [file, input, fires] of cases) {
      const run = await cli(["dry-run", `routes/${file}`, ...input]);
      const what = `${file} ${input.join(" ")}`;
      assert.equal(run.code, 0, `${what}: ${run.err}`);
      assert.match(run.out, fires ? /^result +fires → POST https:\/\//m : /^result +does not fire/m, what);
      if (fires) assert.match(run.out, /^ {2}webhook-signature: v1,/m, what);
    }
    const json = await cli([
      "dry-run",
      "routes/bounces-to-discord.json",
      "--sample",
      "mailtrap/bounce",
      "--json",
    ]);
    const answer = JSON.parse(json.out);
    assert.equal(answer.results[0].matched, true);
    assert.equal(JSON.parse(answer.results[0].request.body).allowed_mentions.parse.length, 0);
  });

  it("dry-run exits 1 when the route fails on the event, and names a missing sample", async () => {
    const dir = join(work, "failing");
    await mkdir(dir, { recursive: true });
    await cp(join(ROOT, "routes/bounces-to-discord.json"), join(dir, "ok.json"));
    await writeFile(
      join(dir, "throws.json"),
      JSON.stringify({
        name: "t",
        filter: "export default () => { throw new Error('nope') }",
        target: { url: "https://x.example/" },
      }),
    );
    const run = await cli(["dry-run", join(dir, "throws.json"), "--sample", "mailtrap/bounce"]);
    assert.equal(run.code, 1);
    assert.match(run.out, /^filter +HG_ERR_SANDBOX_THROW: .*nope/m);
    assert.match(run.out, /^result +error: HG_ERR_SANDBOX_THROW/m);
    // A route that takes the event but whose template fails: it matches, and does not fire.
    await writeFile(
      join(dir, "bad-template.json"),
      JSON.stringify({
        name: "b",
        template: { kind: "json", body: '{"subject": {{data.event}} }' },
        target: { url: "https://x.example/" },
      }),
    );
    const bad = await cli(["dry-run", join(dir, "bad-template.json"), "--sample", "mailtrap/bounce"]);
    assert.equal(bad.code, 1);
    assert.match(bad.out, /^result +matches, but does not fire: HG_ERR_TEMPLATE/m);
    const badJson = await cli([
      "dry-run",
      join(dir, "bad-template.json"),
      "--sample",
      "mailtrap/bounce",
      "--json",
    ]);
    const [result] = JSON.parse(badJson.out).results;
    assert.equal(result.matched, true);
    assert.equal(result.fired, false);
    assert.equal(result.request, null);
    const missing = await cli(["dry-run", join(dir, "ok.json"), "--sample", "mailtrap/nothing"]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /no sample mailtrap\/nothing\.json/);
  });

  it("says so when the gateway cannot be reached or the token is wrong", async () => {
    const port = await freePort();
    const down = await cli(["plan"], { env: { HOOKGATE_URL: `http://127.0.0.1:${port}` } });
    assert.equal(down.code, 1);
    assert.match(down.err, new RegExp(`cannot reach the gateway at http://127\\.0\\.0\\.1:${port}`));
    const denied = await cli(["plan"], { env: { HOOKGATE_ADMIN_TOKEN: "not-the-token-0123456789" } });
    assert.equal(denied.code, 1);
    assert.match(denied.err, /Missing or invalid bearer token/);
  });

  it("redrives a route's failed deliveries window by window, showing progress", async () => {
    await clearRoutes();
    const created = await gw.call("POST", "/v1/routes", {
      name: "redrive me",
      target: { url: "http://127.0.0.1:9/x" },
    });
    assert.equal(created.status, 201);
    const run = await cli(["redrive", "redrive me", "--since", "2h"]);
    assert.equal(run.code, 0, run.err);
    const progressLines = lines(run.err);
    assert.equal(progressLines.length, 20, "a two-hour range in 20 windows");
    assert.match(progressLines[0] ?? "", /^\[ 1\/20\] \S+Z {2}redriven 0 of 0$/);
    assert.match(progressLines[19] ?? "", /^\[20\/20\]/);
    assert.match(run.out, /redrive "redrive me" \(rte_\w+\): 0 failed deliveries sent again, 0 looked at/);
    const missing = await cli(["redrive", "no such route", "--since", "1h"]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /no live route/);
    const usage = await cli(["redrive", "redrive me"]);
    assert.equal(usage.code, 2);
    assert.match(usage.err, /needs --since/);
    const backwards = await cli(["redrive", "redrive me", "--since", "1h", "--until", "2h"]);
    assert.equal(backwards.code, 2);
  });
});
