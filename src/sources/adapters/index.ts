import type { SourceKind } from "../source-schema.ts";
import type { SourceAdapter } from "./common.ts";
import { emailengine } from "./emailengine.ts";
import { generic } from "./generic.ts";
import { mailpilot } from "./mailpilot.ts";
import { mailslurp } from "./mailslurp.ts";
import { mailtrap } from "./mailtrap.ts";
import { stalwart } from "./stalwart.ts";
import { standardWebhooks } from "./standard-webhooks.ts";

export const ADAPTERS: Record<SourceKind, SourceAdapter> = {
  emailengine,
  stalwart,
  mailtrap,
  mailslurp,
  mailpilot,
  "standard-webhooks": standardWebhooks,
  generic,
};

export { MAX_EVENTS_PER_INGEST, type NormaliseContext, type SourceAdapter } from "./common.ts";
export { TIMESTAMP_TOLERANCE_S } from "./standard-webhooks.ts";
