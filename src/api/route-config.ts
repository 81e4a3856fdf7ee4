import type { Scope } from "../access/index.ts";
import type { AuditKind } from "./audit-subjects.ts";

/*
 * What a route definition declares beside its schema: `config: { scope, audit }`. The auth hook
 * (src/api/auth.ts) checks `scope`; the audit hook (audit-hook.ts) records a change for `audit`.
 */
declare module "fastify" {
  interface FastifyContextConfig {
    /** The scope a key needs for this operation (the admin token has every scope). */
    scope?: Scope;
    /** This operation changes something: what it changes, so the audit hook can diff it. */
    audit?: AuditKind;
  }
}
