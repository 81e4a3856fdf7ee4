/**
 * Cost of running a route's filter + map in the sandbox, warm, on a ~2 KB event, against the same
 * functions run natively in the host on JSON-decoded events.
 *
 *   node bench/sandbox.ts [events]
 *
 * Prints µs/event for: sandboxed one at a time (await each), sandboxed with 64 events in flight
 * (the isolate runs on its own thread, so calls pipeline), and native (JSON.parse of the event for
 * each step, filter, map, JSON.stringify of the output: the same work the sandbox does).
 */
import type { HookgateEvent } from "../src/events/event-schema.ts";
import { Sandbox } from "../src/sandbox/index.ts";

const N = Number(process.argv[2] ?? 20000);

const FILTER = `export default (event) =>
  event.type === "messageNew" && event.data.subject.toLowerCase().includes("invoice");`;
const MAP = `export default (event) => ({
  id: event.id,
  subject: event.data.subject,
  from: event.data.from.address,
  to: event.data.to.map((t) => t.address),
  attachments: event.data.attachments.map((a) => a.filename),
  preview: event.data.text.slice(0, 200),
});`;

const event: HookgateEvent = {
  id: "evt_01JBENCH00000000000000000",
  type: "messageNew",
  source: "emailengine",
  account: "support",
  occurredAt: "2025-01-01T10:00:00.000Z",
  receivedAt: "2025-01-01T10:00:00.120Z",
  data: {
    subject: "Invoice 1043 for December",
    from: { name: "Ada Lovelace", address: "ada@example.com" },
    to: [
      { name: "Support", address: "support@example.com" },
      { name: "Billing", address: "billing@example.com" },
    ],
    messageId: "<0123456789abcdef@example.com>",
    headers: { "x-mailer": "bench", "content-type": "multipart/mixed" },
    attachments: [
      { id: "att1", filename: "invoice-1043.pdf", contentType: "application/pdf", size: 48213 },
      { id: "att2", filename: "terms.txt", contentType: "text/plain", size: 1211 },
    ],
    text: "Hello, ".repeat(200),
  },
};
const json = JSON.stringify(event);

const sandbox = new Sandbox({ timeoutMs: 1000, memoryLimitMb: 64 });
const fns = { key: "bench@1", filter: FILTER, map: MAP };

// Warm up (compile, JIT) and check it works.
for (let i = 0; i < 2000; i++) {
  const run = await sandbox.runRoute(fns, event);
  if (!run.filter?.ok || run.filter.value !== true || !run.map?.ok) throw new Error(JSON.stringify(run));
}

let t = performance.now();
for (let i = 0; i < N; i++) await sandbox.runRoute(fns, event);
const sequential = ((performance.now() - t) * 1000) / N;

const inFlight = 64;
t = performance.now();
for (let i = 0; i < N; i += inFlight) {
  await Promise.all(Array.from({ length: inFlight }, () => sandbox.runRoute(fns, event)));
}
const pipelined = ((performance.now() - t) * 1000) / (Math.ceil(N / inFlight) * inFlight);
sandbox.dispose();

type Fn = (e: unknown) => unknown;
const load = async (src: string): Promise<Fn> =>
  ((await import(`data:text/javascript,${encodeURIComponent(src)}`)) as { default: Fn }).default;
const filter = await load(FILTER);
const map = await load(MAP);
let sink = 0;
const native = (): void => {
  if (filter(JSON.parse(json))) sink += JSON.stringify(map(JSON.parse(json))).length;
};
for (let i = 0; i < 20000; i++) native();
const nativeN = N * 10;
t = performance.now();
for (let i = 0; i < nativeN; i++) native();
const nativeUs = ((performance.now() - t) * 1000) / nativeN;

const f = (n: number) => n.toFixed(2).padStart(8);
console.log(`event ${json.length} bytes of JSON, ${N} events, node ${process.version}`);
console.log(
  `sandboxed, one at a time : ${f(sequential)} µs/event  (${(sequential / nativeUs).toFixed(0)}x native)`,
);
console.log(
  `sandboxed, ${inFlight} in flight  : ${f(pipelined)} µs/event  (${(pipelined / nativeUs).toFixed(0)}x native)`,
);
console.log(`native (same functions)  : ${f(nativeUs)} µs/event  (checksum ${sink % 997})`);
