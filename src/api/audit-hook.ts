import type { FastifyInstance, FastifyRequest } from "fastify";
import { type AuditLog, auditDiff, type Principal, type Snapshot } from "../access/index.ts";
import { AUDIT_SUBJECTS, type AuditSubject, type SubjectStores } from "./audit-subjects.ts";
import "./route-config.ts";

/*
 * One hook pair records every change made through the API, instead of each handler doing it:
 * for a route that declares `config: { audit }`, the state it changes is read before its handler
 * runs and again once it has answered with a success, and the difference is appended to the
 * audit log before the answer is sent (so a read of /v1/audit after a change always finds it).
 * Both reads are separate from the change itself: a change made at the same moment by another
 * request can show in this entry's diff.
 */

interface Pending {
  subject: AuditSubject;
  id: string | null;
  before: Snapshot | null;
}

export interface AuditHookOptions {
  stores: SubjectStores;
  log: AuditLog;
  principalOf: (request: FastifyRequest) => Principal | null;
  now?: () => number;
}

export function installAuditHook(app: FastifyInstance, options: AuditHookOptions): void {
  const pending = new WeakMap<FastifyRequest, Pending>();
  const now = options.now ?? Date.now;

  app.addHook("preHandler", async (request) => {
    const kind = request.routeOptions.config.audit;
    if (!kind) return;
    const subject = AUDIT_SUBJECTS[kind];
    const id = (request.params as { id?: string } | undefined)?.id ?? null;
    const before = subject.load ? await subject.load(options.stores, id) : null;
    pending.set(request, { subject, id, before });
  });

  app.addHook("onSend", async (request, reply, payload) => {
    const p = pending.get(request);
    if (!p || reply.statusCode >= 300) return payload;
    pending.delete(request);
    try {
      const answer = parseAnswer(payload);
      // A create answers the new id (its answer may hold a secret: only the id is read).
      const id = p.id ?? (typeof answer.id === "string" ? answer.id : null);
      const after = p.subject.load ? await p.subject.load(options.stores, id) : null;
      const who = options.principalOf(request);
      await options.log.append(
        {
          keyId: who?.keyId ?? "unknown",
          keyName: who?.keyName ?? "unknown",
          requestId: request.id,
          operation: `${request.method} ${request.routeOptions.url ?? request.url}`,
          status: reply.statusCode,
          subject: { type: p.subject.type, id },
          routeId: p.subject.routeOf(id, p.before, after),
          changes: auditDiff(p.before, after),
          ...(p.subject.request && request.body !== undefined ? { request: request.body } : {}),
          ...(p.subject.result ? { result: p.subject.result(answer) } : {}),
        },
        now(),
      );
    } catch (err) {
      // The change is made: failing its answer now would tell the client it was not.
      request.log.error({ err }, "audit entry not recorded");
    }
    return payload;
  });
}

function parseAnswer(payload: unknown): Record<string, unknown> {
  if (typeof payload !== "string" || !payload.startsWith("{")) return {};
  try {
    return JSON.parse(payload) as Record<string, unknown>;
  } catch {
    return {};
  }
}
