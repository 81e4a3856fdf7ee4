import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface SinkRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface SinkAnswer {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Never answer (the request hangs until the client gives up). */
  hang?: boolean;
  /** Destroy the connection instead of answering. */
  reset?: boolean;
  /** Send the status and headers, then the body one byte every `intervalMs`. */
  trickle?: { intervalMs: number };
  /** Send the status, headers and body, then keep the response open: it never ends. */
  unfinished?: boolean;
  /** Answer only once this settles (the test decides when the receiver lets go). */
  until?: Promise<unknown>;
}

/** A real HTTP receiver on 127.0.0.1 that records every request and answers as told. */
export class Sink {
  readonly requests: SinkRequest[] = [];
  respond: (req: SinkRequest) => SinkAnswer = () => ({ status: 200, body: "ok" });
  #server: Server;
  #waiters: Array<() => void> = [];

  constructor() {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const record: SinkRequest = {
          method: req.method ?? "",
          url: req.url ?? "",
          headers: req.headers,
          body: Buffer.concat(chunks).toString("utf8"),
          at: Date.now(),
        };
        this.requests.push(record);
        for (const w of this.#waiters.splice(0)) w();
        const answer = this.respond(record);
        if (answer.hang) return;
        const send = () => {
          if (res.destroyed) return;
          if (answer.reset) {
            req.socket.destroy();
            return;
          }
          res.writeHead(answer.status ?? 200, answer.headers ?? { "content-type": "text/plain" });
          if (answer.unfinished) {
            res.write(answer.body ?? "");
            return;
          }
          const trickle = answer.trickle;
          if (!trickle) {
            res.end(answer.body ?? "");
            return;
          }
          const bytes = Buffer.from(answer.body ?? "slow");
          let i = 0;
          const timer = setInterval(() => {
            if (res.destroyed || i >= bytes.length) {
              clearInterval(timer);
              if (!res.destroyed) res.end();
              return;
            }
            res.write(bytes.subarray(i, i + 1));
            i++;
          }, trickle.intervalMs);
        };
        const held = answer.until;
        if (held) void held.then(send, send);
        else if (answer.delayMs) setTimeout(send, answer.delayMs);
        else send();
      });
    });
    this.#server.keepAliveTimeout = 5000;
  }

  async listen(host = "127.0.0.1"): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, host, resolve));
    return this;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  url(path = "/hook", host = "127.0.0.1"): string {
    return `http://${host}:${this.port}${path}`;
  }

  /** Resolves when at least `count` requests have arrived (rejects after `timeoutMs`). */
  async waitFor(count: number, timeoutMs = 15_000): Promise<SinkRequest[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.requests.length < count) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`sink got ${this.requests.length} of ${count} requests in ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 250));
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.requests;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
