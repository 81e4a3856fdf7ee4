import { z } from "zod";
import type { Redis } from "../shared/redis.ts";

/*
 * The audit trail: one Redis stream, an entry per change made through the API. Stream ids are
 * the time in ms, so `since`/`until` are id ranges; each append trims exactly by age (retention)
 * and by count, so it stays bounded however busy the API is (changes are rare: the exact trim
 * removes one entry or none per append).
 */

export const AuditEntrySchema = z
  .object({
    id: z.string().describe("The entry's stream id (time in ms and a sequence)"),
    at: z.string().describe("When the change was answered (ISO 8601)"),
    keyId: z.string().describe('The key that made it, or "admin" for the bootstrap token'),
    keyName: z.string(),
    requestId: z.string().describe("The request's id, as in the gateway's log and its x-request-id header"),
    operation: z.string().describe('The API operation, e.g. "PATCH /v1/routes/:id"'),
    status: z.int().describe("The answer's status"),
    subject: z
      .object({ type: z.string(), id: z.string().nullable() })
      .describe("What was changed: route, routes-order, source, key, delivery, target"),
    routeId: z.string().nullable().describe("The route it concerns, if any (filter with ?routeId=)"),
    changes: z
      .array(
        z.object({
          path: z.string(),
          before: z.unknown().optional(),
          after: z.unknown().optional(),
        }),
      )
      .describe(
        "Field by field, as the API shows it: secrets and literal header values are [redacted] (a changed one still shows as a change)",
      ),
    request: z
      .unknown()
      .optional()
      .describe("What was asked, when the change has no before and after (redrive's range)"),
    result: z
      .unknown()
      .optional()
      .describe("What the answer counted (redriven, dropped), when it holds no secret"),
  })
  .meta({ id: "AuditEntry" });
export type AuditEntry = z.infer<typeof AuditEntrySchema>;
export type NewAuditEntry = Omit<AuditEntry, "id" | "at">;

export interface AuditQuery {
  sinceMs?: number;
  untilMs?: number;
  routeId?: string;
  keyId?: string;
  limit: number;
}

const PAGE = 200;

export class AuditLog {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #retentionMs: number;
  readonly #maxEntries: number;

  constructor(redis: Redis, prefix: string, retentionS: number, maxEntries: number) {
    this.#redis = redis;
    this.#key = `${prefix}:audit`;
    this.#retentionMs = retentionS * 1000;
    this.#maxEntries = maxEntries;
  }

  async append(entry: NewAuditEntry, nowMs: number): Promise<void> {
    await this.#redis
      .multi()
      .xadd(this.#key, "MAXLEN", this.#maxEntries, "*", "e", JSON.stringify(entry))
      .xtrim(this.#key, "MINID", nowMs - this.#retentionMs)
      .exec();
  }

  /** Newest first; `routeId` and `keyId` are matched while paging back through the range. */
  async query(q: AuditQuery): Promise<AuditEntry[]> {
    const out: AuditEntry[] = [];
    const floor = q.sinceMs === undefined ? "-" : String(q.sinceMs);
    let end = q.untilMs === undefined ? "+" : `${q.untilMs}-${Number.MAX_SAFE_INTEGER}`;
    for (;;) {
      const page = await this.#redis.xrevrange(this.#key, end, floor, "COUNT", PAGE);
      for (const [id, fields] of page) {
        const entry = {
          id,
          at: new Date(Number(id.split("-")[0])).toISOString(),
          ...JSON.parse(fields[1] ?? "{}"),
        };
        if (q.routeId !== undefined && entry.routeId !== q.routeId) continue;
        if (q.keyId !== undefined && entry.keyId !== q.keyId) continue;
        out.push(entry as AuditEntry);
        if (out.length >= q.limit) return out;
      }
      const last = page.at(-1);
      if (page.length < PAGE || !last) return out;
      end = `(${last[0]}`;
    }
  }
}
