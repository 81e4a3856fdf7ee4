import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import {
  type AddressInfo,
  createServer as createNetServer,
  type Server as NetServer,
  type Socket,
} from "node:net";

/*
 * Receivers that misbehave the ways real webhook endpoints do, all on 127.0.0.1: one that flaps
 * between 200 and 503, one that takes requests and never answers, one that answers one byte at a
 * time, and one that resets the connection as soon as a request arrives.
 */

abstract class SickSink {
  /** Requests received (or, for the reset sink, connections that sent something). */
  received = 0;
  protected abstract readonly server: HttpServer | NetServer;
  protected readonly sockets = new Set<Socket>();

  async listen(): Promise<this> {
    this.server.on("connection", (s: Socket) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return this;
  }

  url(path = "/hook"): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** 200 and 503 in turns of `periodMs`. */
export class FlappingSink extends SickSink {
  protected readonly server: HttpServer;

  constructor(periodMs = 300) {
    super();
    this.server = createHttpServer((req, res) => {
      req.resume();
      req.on("end", () => {
        this.received++;
        const up = Math.floor(Date.now() / periodMs) % 2 === 0;
        res.writeHead(up ? 200 : 503, { "content-type": "text/plain" }).end(up ? "ok" : "down");
      });
    });
  }
}

export interface HeldRequest {
  at: number;
  /** The gateway gave up on it (timeout) or the connection went away otherwise. */
  closed: boolean;
}

/** Reads each request and never answers; keeps track of which are still held open. */
export class HangingSink extends SickSink {
  protected readonly server: HttpServer;
  readonly held: HeldRequest[] = [];

  constructor() {
    super();
    this.server = createHttpServer((req, res) => {
      this.received++;
      const held: HeldRequest = { at: Date.now(), closed: false };
      this.held.push(held);
      req.resume();
      res.on("close", () => {
        held.closed = true;
      });
    });
    this.server.requestTimeout = 0;
    this.server.headersTimeout = 0;
  }
}

/** Answers 200 one byte every `byteMs`, headers included. */
export class SlowSink extends SickSink {
  protected readonly server: NetServer;

  constructor(byteMs = 200) {
    super();
    const answer = Buffer.from("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok");
    this.server = createNetServer((socket) => {
      let buffered = "";
      socket.on("data", (chunk) => {
        buffered += chunk.toString("latin1");
        // One answer per request head seen; the gateway sends small bodies with Content-Length.
        while (buffered.includes("\r\n\r\n")) {
          const end = buffered.indexOf("\r\n\r\n") + 4;
          const length = Number(/content-length:\s*(\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0);
          if (buffered.length < end + length) return;
          buffered = buffered.slice(end + length);
          this.received++;
          this.#drip(socket, answer, byteMs);
        }
      });
      socket.on("error", () => {});
    });
  }

  #drip(socket: Socket, bytes: Buffer, byteMs: number): void {
    let i = 0;
    const timer = setInterval(() => {
      if (socket.destroyed || i >= bytes.length) {
        clearInterval(timer);
        return;
      }
      socket.write(bytes.subarray(i, i + 1));
      i++;
    }, byteMs);
    socket.on("close", () => clearInterval(timer));
  }
}

/** Resets the connection (TCP RST) as soon as a request starts to arrive. */
export class ResettingSink extends SickSink {
  protected readonly server: NetServer;

  constructor() {
    super();
    this.server = createNetServer((socket) => {
      socket.on("error", () => {});
      socket.once("data", () => {
        this.received++;
        socket.resetAndDestroy();
      });
    });
  }
}
