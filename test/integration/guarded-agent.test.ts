// The send-time guard against real sockets. Loopback only: every server listens on 127.0.0.0/8 or
// ::1, and names are either localhost (never sent to DNS by the guard) or resolved by an injected
// resolver that maps test names to loopback addresses. No request leaves the machine.
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { type Dispatcher, fetch, request } from "undici";
import {
  BlockedAddressError,
  createGuardedAgent,
  findBlockedAddressError,
  isBlockedAddressError,
  type ResolveFunction,
} from "../../src/delivery/guarded-agent.ts";
import { createAddressPolicy } from "../../src/shared/address-policy.ts";

interface Sink {
  readonly host: string;
  readonly port: number;
  readonly hits: string[];
  close(): Promise<void>;
}

/** A loopback HTTP server recording "METHOD host path" per request; null if `host` can't be bound. */
async function startSink(host: string, handler?: http.RequestListener): Promise<Sink | null> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.headers.host} ${req.url}`);
    if (handler) handler(req, res);
    else res.end("ok");
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, host, () => resolve());
    });
  } catch {
    return null;
  }
  const { port } = server.address() as AddressInfo;
  return {
    host,
    port,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function get(
  url: string,
  dispatcher: Dispatcher,
): Promise<{ status: number; location: unknown; body: string }> {
  const res = await request(url, { dispatcher });
  return { status: res.statusCode, location: res.headers.location, body: await res.body.text() };
}

async function assertBlocked(url: string, dispatcher: Dispatcher, reason?: RegExp): Promise<void> {
  await assert.rejects(get(url, dispatcher), (err: unknown) => {
    assert.ok(err instanceof BlockedAddressError, `${url}: expected BlockedAddressError, got ${String(err)}`);
    assert.equal(err.code, "HG_ERR_TARGET_BLOCKED");
    assert.equal(isBlockedAddressError(err), true);
    if (reason) assert.match(err.message, reason);
    return true;
  });
}

describe("guarded agent", () => {
  let a: Sink; // 127.0.0.1, the only allowed address in most tests
  let b: Sink | null; // 127.0.0.2, must never be reached
  let v6: Sink | null; // ::1, must never be reached
  let bPort: number;
  let v6Port: number;
  const agents: Dispatcher[] = [];

  const guarded = (allow: readonly string[], resolve?: ResolveFunction): Dispatcher => {
    const agent = createGuardedAgent({
      policy: createAddressPolicy(allow),
      connections: 4,
      keepAliveTimeoutMs: 1000,
      connectTimeoutMs: 5000,
      ...(resolve ? { resolve } : {}),
    });
    agents.push(agent);
    return agent;
  };

  const unreachedTotal = (): number => (b?.hits.length ?? 0) + (v6?.hits.length ?? 0);

  before(async () => {
    b = await startSink("127.0.0.2");
    v6 = await startSink("::1");
    const sinkA = await startSink("127.0.0.1", (req, res) => {
      if (req.url === "/redirect") {
        res.writeHead(302, { location: `http://127.0.0.2:${bPort}/x` });
        res.end();
      } else {
        res.end("ok");
      }
    });
    assert.ok(sinkA, "127.0.0.1 can be bound");
    a = sinkA;
    // If 127.0.0.2 or ::1 can't be bound, aim at a port with nothing behind it: the assertions
    // still require a BlockedAddressError, which is raised before any connection is attempted.
    bPort = b?.port ?? a.port;
    v6Port = v6?.port ?? a.port;
  });

  after(async () => {
    await Promise.all(agents.map((agent) => agent.close()));
    await Promise.all([a, b, v6].map((sink) => sink?.close()));
  });

  it("connects to an allowed IP literal", async () => {
    const dispatcher = guarded(["127.0.0.1/32"]);
    const before = a.hits.length;
    const res = await get(`http://127.0.0.1:${a.port}/hello`, dispatcher);
    assert.equal(res.status, 200);
    assert.equal(res.body, "ok");
    assert.deepEqual(a.hits.slice(before), [`GET 127.0.0.1:${a.port} /hello`]);
  });

  it("accepts the odd spellings of an allowed address (127.1 is 127.0.0.1)", async () => {
    const dispatcher = guarded(["127.0.0.1/32"]);
    for (const host of ["127.1", "2130706433", "0x7f000001", "[::ffff:127.0.0.1]"]) {
      const res = await get(`http://${host}:${a.port}/odd`, dispatcher);
      assert.equal(res.status, 200, host);
    }
  });

  it("refuses loopback variants outside the allow list before connecting", async () => {
    const dispatcher = guarded(["127.0.0.1/32"]);
    const beforeA = a.hits.length;
    await assertBlocked(`http://127.0.0.2:${bPort}/`, dispatcher, /^127\.0\.0\.2 is a loopback address$/);
    await assertBlocked(`http://0x7f000002:${bPort}/`, dispatcher, /127\.0\.0\.2/);
    await assertBlocked(`http://2130706434:${bPort}/`, dispatcher, /127\.0\.0\.2/);
    await assertBlocked(`http://127.0.0.2.:${bPort}/`, dispatcher, /127\.0\.0\.2/);
    await assertBlocked(`http://[::ffff:127.0.0.2]:${bPort}/`, dispatcher, /::ffff:127\.0\.0\.2/);
    await assertBlocked(`http://[::1]:${v6Port}/`, dispatcher, /^::1 is a loopback address$/);
    assert.equal(unreachedTotal(), 0);
    assert.equal(a.hits.length, beforeA);
  });

  it("refuses localhost when any of its addresses (127.0.0.1, ::1) is blocked", async () => {
    const dispatcher = guarded(["127.0.0.1/32"]);
    const beforeA = a.hits.length;
    await assertBlocked(
      `http://localhost:${a.port}/`,
      dispatcher,
      /^localhost resolves to a blocked address: ::1/,
    );
    await assertBlocked(`http://foo.localhost:${a.port}/`, dispatcher, /::1 is a loopback address/);
    assert.equal(a.hits.length, beforeA);
    assert.equal(unreachedTotal(), 0);
  });

  it("connects to localhost when both loopback addresses are allowed", async () => {
    const dispatcher = guarded(["127.0.0.1/32", "::1/128"]);
    const res = await get(`http://localhost:${a.port}/local`, dispatcher);
    // Served by 127.0.0.1, or by ::1 if that sink happens to hold the same port number.
    assert.equal(res.status, 200);
  });

  it("does not follow a redirect to a blocked address", async () => {
    const dispatcher = guarded(["127.0.0.1/32"]);
    const res = await get(`http://127.0.0.1:${a.port}/redirect`, dispatcher);
    assert.equal(res.status, 302);
    assert.equal(res.location, `http://127.0.0.2:${bPort}/x`);

    // fetch with redirect: "manual" hands back the 302 too.
    const manual = await fetch(`http://127.0.0.1:${a.port}/redirect`, { dispatcher, redirect: "manual" });
    assert.equal(manual.status, 302);
    await manual.body?.cancel();

    // fetch follows redirects by default; the hop goes through the same connector and is refused.
    await assert.rejects(fetch(`http://127.0.0.1:${a.port}/redirect`, { dispatcher }), (err: unknown) => {
      assert.equal(isBlockedAddressError(err), true);
      assert.ok(!(err instanceof BlockedAddressError), "fetch wraps it: found through .cause");
      assert.equal(findBlockedAddressError(err)?.address, "127.0.0.2");
      return true;
    });
    assert.equal(unreachedTotal(), 0);
  });

  it("checks every address a name resolves to, once, and connects to the checked address", async () => {
    const calls: string[] = [];
    const resolve: ResolveFunction = async (hostname) => {
      calls.push(hostname);
      switch (hostname) {
        case "sink.test":
          return [{ address: "127.0.0.1", family: 4 }];
        case "mixed.test":
          return [
            { address: "127.0.0.1", family: 4 },
            { address: "127.0.0.2", family: 4 },
          ];
        case "rebind.test":
          // Allowed on the first answer, blocked on any later one.
          return calls.filter((h) => h === "rebind.test").length === 1
            ? [{ address: "127.0.0.1", family: 4 }]
            : [{ address: "127.0.0.2", family: 4 }];
        default:
          throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
      }
    };
    const dispatcher = guarded(["127.0.0.1/32"], resolve);
    const beforeA = a.hits.length;

    const ok = await get(`http://sink.test:${a.port}/named`, dispatcher);
    assert.equal(ok.status, 200);
    assert.deepEqual(calls, ["sink.test"]);

    await assertBlocked(
      `http://mixed.test:${bPort}/`,
      dispatcher,
      /^mixed\.test resolves to a blocked address: 127\.0\.0\.2/,
    );

    const rebound = await get(`http://rebind.test:${a.port}/rebind`, dispatcher);
    assert.equal(rebound.status, 200);
    assert.deepEqual(
      calls.filter((h) => h === "rebind.test"),
      ["rebind.test"],
      "resolved once per connection",
    );
    assert.deepEqual(a.hits.slice(beforeA), [
      `GET sink.test:${a.port} /named`,
      `GET rebind.test:${a.port} /rebind`,
    ]);

    await assert.rejects(get(`http://nowhere.test:${a.port}/`, dispatcher), (err: unknown) => {
      assert.equal(isBlockedAddressError(err), false);
      assert.equal((err as { code?: unknown }).code, "ENOTFOUND");
      return true;
    });
    assert.equal(unreachedTotal(), 0);
  });

  it("refuses every loopback target when the allow list is empty", async () => {
    const dispatcher = guarded([], async () => [{ address: "127.0.0.1", family: 4 }]);
    const beforeA = a.hits.length;
    await assertBlocked(`http://127.0.0.1:${a.port}/`, dispatcher, /^127\.0\.0\.1 is a loopback address$/);
    await assertBlocked(`http://127.1:${a.port}/`, dispatcher);
    await assertBlocked(`http://localhost:${a.port}/`, dispatcher, /127\.0\.0\.1 is a loopback address/);
    await assertBlocked(`http://[::1]:${v6Port}/`, dispatcher);
    await assertBlocked(`http://[::ffff:127.0.0.1]:${a.port}/`, dispatcher);
    await assertBlocked(
      `http://sink.test:${a.port}/`,
      dispatcher,
      /^sink\.test resolves to a blocked address/,
    );
    assert.equal(a.hits.length, beforeA);
    assert.equal(unreachedTotal(), 0);
  });

  it("isBlockedAddressError walks .cause chains and ignores other errors", () => {
    const blocked = new BlockedAddressError("10.0.0.1 is a private address", "10.0.0.1", "10.0.0.1");
    assert.equal(isBlockedAddressError(blocked), true);
    assert.equal(isBlockedAddressError(new TypeError("fetch failed", { cause: blocked })), true);
    assert.equal(isBlockedAddressError(new Error("a", { cause: new Error("b", { cause: blocked }) })), true);
    assert.equal(isBlockedAddressError(new AggregateError([new Error("x"), blocked])), true);
    assert.equal(isBlockedAddressError(new Error("connect ECONNREFUSED")), false);
    assert.equal(isBlockedAddressError(null), false);
    assert.equal(isBlockedAddressError("HG_ERR_TARGET_BLOCKED"), false);
    const cyclic = new Error("loop") as Error & { cause?: unknown };
    cyclic.cause = cyclic;
    assert.equal(isBlockedAddressError(cyclic), false);
    assert.equal(blocked.name, "BlockedAddressError");
    assert.equal(blocked.code, "HG_ERR_TARGET_BLOCKED");
  });
});
