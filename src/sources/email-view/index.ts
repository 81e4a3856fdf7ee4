/**
 * `event.email`: one reader per email system (a pure function of the body it sent and the event
 * type), one shape for all of them (view.ts).
 */
import type { EmailView } from "../../events/index.ts";
import { type JsonRecord, own } from "../../shared/json-value.ts";
import type { SourceKind } from "../source-schema.ts";
import { emailEngineView } from "./emailengine.ts";
import { genericView } from "./generic.ts";
import { mailpilotView } from "./mailpilot.ts";
import { mailSlurpView } from "./mailslurp.ts";
import { mailtrapView } from "./mailtrap.ts";
import { stalwartView } from "./stalwart.ts";
import { emailView, type RawView, recOf, type ViewOptions } from "./view.ts";

type Reader = (body: JsonRecord, type: string) => RawView;

const READERS: Record<SourceKind, Reader> = {
  emailengine: emailEngineView,
  stalwart: stalwartView,
  mailtrap: mailtrapView,
  mailslurp: mailSlurpView,
  mailpilot: mailpilotView,
  // Standard Webhooks senders put the payload in `data` (the convention's own envelope).
  "standard-webhooks": (body, type) => genericView(own(body, "data"), type),
  generic: genericView,
};

/** Kinds whose events are email events whatever they hold: their view is always there. */
const EMAIL_SYSTEMS = new Set<string>(["emailengine", "stalwart", "mailtrap", "mailslurp", "mailpilot"]);

/**
 * The view of an event's data as its source kind sends it (an unknown or absent kind: as
 * generic data). Undefined for data from outside the email systems that has nothing of an email
 * in it (a view of only `account` would repeat `event.account`).
 */
export function emailViewOf(
  kind: string | null | undefined,
  data: unknown,
  type: string,
  account: string | null,
  options?: ViewOptions,
): EmailView | undefined {
  const read = kind && Object.hasOwn(READERS, kind) ? READERS[kind as SourceKind] : genericView;
  const view = emailView({ ...read(recOf(data), type), account: account ?? undefined }, options);
  if (kind && EMAIL_SYSTEMS.has(kind)) return view;
  return Object.keys(view).some((key) => key !== "account") ? view : undefined;
}

export {
  emailView,
  isEmailStatus,
  type RawView,
  VIEW_LINE_CHARS,
  VIEW_MAX_ADDRESSES,
  VIEW_TEXT_CHARS,
  type ViewOptions,
} from "./view.ts";
export { EMAIL_SYSTEMS };
