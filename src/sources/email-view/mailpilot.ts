import type { JsonRecord } from "../../shared/json-value.ts";
import type { RawView } from "./view.ts";

/**
 * Mailpilot classifies mail as it arrives: `email_processed` is the arrival (with subject and
 * sender), `action_taken` one action on the same mail, `error`/`connection_lost` say why in
 * `error` and `details`.
 */
export function mailpilotView(body: JsonRecord, type: string): RawView {
  switch (type) {
    case "email_processed":
      return { status: "received", direction: "inbound", subject: body.subject, from: body.from };
    case "action_taken":
      return { direction: "inbound", subject: body.subject, from: body.from };
    default: {
      const error = typeof body.error === "string" ? body.error : undefined;
      const details = typeof body.details === "string" ? body.details : undefined;
      return { reason: error && details ? `${error}: ${details}` : (error ?? details) };
    }
  }
}
