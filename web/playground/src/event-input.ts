/** The "my own event" editor's content: what POST /v1/dry-run takes as `event` (EventIn). */

export const EXAMPLE_EVENT = {
  type: "messageNew",
  account: "support",
  data: {
    subject: "Invoice 1043",
    from: { name: "Ada Lovelace", address: "ada@example.com" },
    to: [{ address: "billing@example.com" }],
    text: { plain: "Please find the invoice attached." },
  },
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * A walked event (the dry-run's answer) cut back to the fields a client may send, so a sample can
 * be turned into an editable event. Its id is left out: each dry-run is new.
 */
export function eventInOf(event: unknown): Record<string, unknown> {
  if (!isObject(event) || typeof event.type !== "string") return { ...EXAMPLE_EVENT };
  const out: Record<string, unknown> = { type: event.type };
  for (const field of ["source", "account", "occurredAt"] as const) {
    if (typeof event[field] === "string") out[field] = event[field];
  }
  out.data = event.data ?? null;
  return out;
}
