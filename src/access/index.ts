/** API keys and their scopes, and the audit trail's store and diff. The API installs the hooks. */
export {
  ADMIN_PRINCIPAL,
  buildKeyRecord,
  KEY_PREFIX,
  KeyCreatedSchema,
  KeyInSchema,
  KeyListSchema,
  type KeyRecord,
  keyIsLive,
  newKeySecret,
  type Principal,
} from "./api-key.ts";
export { auditDiff, type Snapshot } from "./audit-diff.ts";
export { AuditEntrySchema, AuditLog } from "./audit-log.ts";
export { KeyStore, toKeyOut } from "./key-store.ts";
export { missingScopes, SCOPES, type Scope, withScopeDoc } from "./scopes.ts";
