/** The `hookgate` standard library, exercised inside a real isolate (one route, many events). */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { HookgateEvent } from "../../../src/events/event-schema.ts";
import { Sandbox } from "../../../src/sandbox/index.ts";

const sandbox = new Sandbox({ timeoutMs: 1000, memoryLimitMb: 32 });
after(() => sandbox.dispose());

const CALL =
  "export default (e) => { const r = hookgate[e.data.fn](...e.data.args); return r === undefined ? '<undefined>' : r; }";

async function call(fn: string, ...args: unknown[]): Promise<unknown> {
  const event: HookgateEvent = {
    id: "evt_lib",
    type: "t",
    source: null,
    account: null,
    occurredAt: "2025-01-01T00:00:00.000Z",
    receivedAt: "2025-01-01T00:00:00.000Z",
    data: { fn, args },
  };
  const run = await sandbox.runRoute({ key: "stdlib@1", map: CALL }, event);
  assert.ok(run.map?.ok, JSON.stringify(run.map));
  return run.map.value;
}

describe("hookgate standard library (in an isolate)", () => {
  it("is a frozen global next to console, and nothing is writable", async () => {
    const run = await sandbox.runRoute(
      {
        key: "stdlib-shape@1",
        map: `export default () => [Object.isFrozen(hookgate), Object.keys(hookgate).sort(), (() => { try { hookgate.truncate = null; return "wrote"; } catch (e) { return e.name; } })()]`,
      },
      { id: "e", type: "t", source: null, account: null, occurredAt: "", receivedAt: "", data: null },
    );
    assert.deepEqual(run.map?.value, [
      true,
      [
        "addressList",
        "domainOf",
        "escapeMrkdwn",
        "htmlToText",
        "parseAddress",
        "parseQuery",
        "parseUrl",
        "truncate",
      ],
      "TypeError",
    ]);
  });

  it("parseAddress", async () => {
    assert.deepEqual(await call("parseAddress", "Ada <ada@X.com>"), {
      name: "Ada",
      address: "ada@X.com",
      local: "ada",
      domain: "x.com",
    });
    assert.deepEqual(await call("parseAddress", '"Lovelace, Ada" <ada@x.com>'), {
      name: "Lovelace, Ada",
      address: "ada@x.com",
      local: "ada",
      domain: "x.com",
    });
    assert.deepEqual(await call("parseAddress", "ada@x.com (Ada L)"), {
      name: "Ada L",
      address: "ada@x.com",
      local: "ada",
      domain: "x.com",
    });
    assert.deepEqual(await call("parseAddress", { name: "Grace", email: "g@navy.mil" }), {
      name: "Grace",
      address: "g@navy.mil",
      local: "g",
      domain: "navy.mil",
    });
    assert.equal(await call("parseAddress", "not an address"), null);
    assert.equal(await call("parseAddress", ""), null);
    assert.equal(await call("parseAddress", null), null);
  });

  it("addressList normalises the shapes of the email systems", async () => {
    const ada = { name: "Ada", address: "ada@x.com" };
    const bob = { name: null, address: "bob@y.org" };
    // EmailEngine
    assert.deepEqual(
      await call("addressList", [{ name: "Ada", address: "ada@x.com" }, { address: "bob@y.org" }]),
      [ada, bob],
    );
    // Stalwart / JMAP, Mailtrap
    assert.deepEqual(
      await call("addressList", [{ name: "Ada", email: "ada@x.com" }, { email: "bob@y.org" }]),
      [ada, bob],
    );
    // MailSlurp
    assert.deepEqual(await call("addressList", ["Ada <ada@x.com>", "bob@y.org"]), [ada, bob]);
    assert.deepEqual(await call("addressList", { emailAddress: "ada@x.com", name: "Ada" }), [ada]);
    // mailparser / Mailpilot
    assert.deepEqual(
      await call("addressList", { value: [{ name: "Ada", address: "ada@x.com" }], text: "Ada <ada@x.com>" }),
      [ada],
    );
    assert.deepEqual(await call("addressList", { text: "Ada <ada@x.com>; bob@y.org" }), [ada, bob]);
    // an address-list string, quotes and all
    assert.deepEqual(await call("addressList", '"Doe, Jane" <jane@z.net>, Ada <ada@x.com>, , nonsense'), [
      { name: "Doe, Jane", address: "jane@z.net" },
      ada,
    ]);
    assert.deepEqual(await call("addressList", undefined), []);
    assert.deepEqual(await call("addressList", 42), []);
  });

  it("domainOf", async () => {
    assert.equal(await call("domainOf", "ada@Example.COM"), "example.com");
    assert.equal(await call("domainOf", "Ada <ada@sub.example.com>"), "sub.example.com");
    assert.equal(await call("domainOf", "nobody"), null);
  });

  it("htmlToText", async () => {
    const html = `<!DOCTYPE html><html><head><title>x</title><style>p{color:red}</style></head>
      <body><h1>Invoice&nbsp;1043</h1><p>Dear Ada,<br>your total is &euro;42 &amp; &#x1F600; &lt;ok&gt;</p>
      <script>alert(1)</script><!-- hidden --><ul><li>one</li><li>two</li></ul>
      <table><tr><td>a</td><td>b</td></tr></table></body></html>`;
    assert.equal(
      await call("htmlToText", html),
      "Invoice 1043\n\nDear Ada,\nyour total is €42 & 😀 <ok>\n\n- one\n- two\n\na b",
    );
    assert.equal(await call("htmlToText", "<p>Hello world</p>", { maxLength: 8 }), "Hello w…");
    assert.equal(await call("htmlToText", "a < b and c > d"), "a < b and c > d");
    assert.equal(await call("htmlToText", "<p>unclosed <!-- comment"), "unclosed");
    assert.equal(await call("htmlToText", null), "");
  });

  it("htmlToText stays linear on hostile input", async () => {
    const hostile = "<!--<script><".repeat(20000) + "<a ".repeat(20000);
    assert.equal(typeof (await call("htmlToText", hostile)), "string");
  });

  it("escapeMrkdwn and truncate", async () => {
    assert.equal(
      await call("escapeMrkdwn", "<!channel> & <http://x|y>"),
      "&lt;!channel&gt; &amp; &lt;http://x|y&gt;",
    );
    assert.equal(await call("truncate", "hello world", 5), "hell…");
    assert.equal(await call("truncate", "short", 10), "short");
    assert.equal(await call("truncate", "ab😀cd", 4), "ab…");
    assert.equal(await call("truncate", "abc", 0), "");
  });

  it("parseUrl and parseQuery", async () => {
    assert.deepEqual(await call("parseUrl", "HTTPS://user:pw@Example.com:443/a/b?x=1&y=a+b&x=2&z#frag"), {
      href: "https://user:pw@example.com/a/b?x=1&y=a+b&x=2&z#frag",
      protocol: "https:",
      username: "user",
      password: "pw",
      host: "example.com",
      hostname: "example.com",
      port: "",
      pathname: "/a/b",
      search: "?x=1&y=a+b&x=2&z",
      hash: "#frag",
      origin: "https://example.com",
      searchParams: { x: ["1", "2"], y: "a b", z: "" },
    });
    const local = (await call("parseUrl", "http://[::1]:8080")) as Record<string, unknown>;
    assert.equal(local.host, "[::1]:8080");
    assert.equal(local.pathname, "/");
    const mail = (await call("parseUrl", "mailto:ada@x.com?subject=hi%20there")) as Record<string, unknown>;
    assert.equal(mail.pathname, "ada@x.com");
    assert.deepEqual(mail.searchParams, { subject: "hi there" });
    assert.equal(await call("parseUrl", "not a url"), null);
    assert.equal(await call("parseUrl", "https://"), null);
    assert.equal(await call("parseUrl", "http://x:99999/"), null);
    assert.deepEqual(await call("parseQuery", "?a=%E2%82%AC&b=%ZZ"), { a: "€", b: "%ZZ" });
  });
});
