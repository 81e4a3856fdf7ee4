/**
 * Worker threads that render the templates too costly for the main thread (contained-render.ts).
 *
 * A render is bounded by its work budget; the time limit is the backstop for what the budget does
 * not count (a structured clone, a helper's own work), and is enforced by terminating the thread,
 * which stops even a synchronous loop. Lanes (one per route) are served in turn and no lane holds
 * every thread, so a route whose every render runs to the budget slows its own lane, not another
 * route's renders.
 */
import { Worker } from "node:worker_threads";
import { TemplateRenderError } from "./errors.ts";
import { LaneQueue } from "./lane-queue.ts";
import type { Template } from "./template-schema.ts";
import type { RenderedBody } from "./types.ts";

export interface RenderRequest {
  id: number;
  template: Template;
  payload: unknown;
  cacheKey: string;
}

export type RenderReply =
  | { id: number; ok: true; rendered: RenderedBody }
  | { id: number; ok: false; message: string };

export interface RenderPoolOptions {
  threads: number;
  /** Wall time a render may take in its thread before the thread is terminated. */
  timeLimitMs: number;
  /** Old-generation heap of each thread (MB): a render past it fails alone. */
  heapMb?: number;
}

interface Job {
  request: RenderRequest;
  resolve: (body: RenderedBody) => void;
  reject: (error: Error) => void;
}

interface Thread {
  worker: Worker;
  job: { lane: string; item: Job } | null;
  timer: NodeJS.Timeout | null;
}

const THREAD_URL = new URL("./render-thread.ts", import.meta.url);

export class RenderPool {
  readonly #options: Required<RenderPoolOptions>;
  readonly #queue: LaneQueue<Job>;
  readonly #threads: Thread[] = [];
  #nextId = 1;
  #closed = false;

  constructor(options: RenderPoolOptions) {
    this.#options = { heapMb: 256, ...options, threads: Math.max(1, options.threads) };
    // A lane may use every thread but one, so one route's renders never hold them all.
    this.#queue = new LaneQueue(this.#options.threads - 1);
  }

  render(lane: string, template: Template, payload: unknown, cacheKey: string): Promise<RenderedBody> {
    if (this.#closed) return Promise.reject(new TemplateRenderError(template.kind, "the renderer is closed"));
    return new Promise((resolve, reject) => {
      const request = { id: this.#nextId++, template, payload, cacheKey };
      this.#queue.push(lane, { request, resolve, reject });
      this.#pump();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.drain()) {
      job.reject(new TemplateRenderError(job.request.template.kind, "the renderer is closed"));
    }
    await Promise.all(this.#threads.map((t) => this.#stop(t, "the renderer is closed")));
    this.#threads.length = 0;
  }

  #pump(): void {
    for (;;) {
      const thread = this.#idleThread();
      if (!thread) return;
      const job = this.#queue.take();
      if (!job) return;
      this.#start(thread, job);
    }
  }

  #idleThread(): Thread | undefined {
    const idle = this.#threads.find((t) => t.job === null);
    if (idle || this.#threads.length >= this.#options.threads) return idle;
    const thread = this.#spawn();
    this.#threads.push(thread);
    return thread;
  }

  #spawn(): Thread {
    const worker = new Worker(THREAD_URL, {
      resourceLimits: { maxOldGenerationSizeMb: this.#options.heapMb },
    });
    const thread: Thread = { worker, job: null, timer: null };
    worker.unref();
    worker.on("message", (reply: RenderReply) => {
      const job = thread.job?.item;
      if (!job || job.request.id !== reply.id) return;
      this.#finish(thread);
      if (reply.ok) job.resolve(reply.rendered);
      else job.reject(new TemplateRenderError(job.request.template.kind, stripKind(reply.message)));
      this.#pump();
    });
    // A thread that dies (out of memory, a crash) fails its render alone and is replaced.
    const died = (why: string) => {
      const index = this.#threads.indexOf(thread);
      if (index < 0) return;
      this.#threads.splice(index, 1);
      const job = thread.job?.item;
      this.#finish(thread);
      job?.reject(new TemplateRenderError(job.request.template.kind, `the render thread stopped: ${why}`));
      this.#pump();
    };
    worker.on("error", (error) => died(error.message));
    worker.on("exit", (code) => died(`exit code ${code}`));
    return thread;
  }

  #start(thread: Thread, job: { lane: string; item: Job }): void {
    thread.job = job;
    thread.worker.ref();
    thread.timer = setTimeout(() => {
      void this.#stop(thread, `the render took longer than ${this.#options.timeLimitMs} ms and was stopped`);
    }, this.#options.timeLimitMs);
    thread.worker.postMessage(job.item.request);
  }

  #finish(thread: Thread): void {
    const job = thread.job;
    if (thread.timer) clearTimeout(thread.timer);
    thread.timer = null;
    thread.job = null;
    thread.worker.unref();
    if (job) this.#queue.done(job.lane);
  }

  /** Terminates a thread; its render fails with `why` and a new thread takes its place on demand. */
  async #stop(thread: Thread, why: string): Promise<void> {
    const index = this.#threads.indexOf(thread);
    if (index >= 0) this.#threads.splice(index, 1);
    const job = thread.job?.item;
    this.#finish(thread);
    job?.reject(new TemplateRenderError(job.request.template.kind, why));
    await thread.worker.terminate();
    if (!this.#closed) this.#pump();
  }
}

/** The thread's error message already names the template kind; TemplateRenderError adds it again. */
function stripKind(message: string): string {
  return message.replace(/^\w+ template: /, "");
}
