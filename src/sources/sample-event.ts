import type { HookgateEvent } from "../events/index.ts";
import { emailViewOf } from "./email-view/index.ts";

/** The event POST /v1/routes/:id/test sends: an EmailEngine messageNew, the most common one. */
export function sampleEvent(now = new Date()): HookgateEvent {
  const at = now.toISOString();
  const event: HookgateEvent = {
    id: `evt_test_${now.getTime().toString(36)}`,
    type: "messageNew",
    source: "hookgate-test",
    account: "example",
    occurredAt: at,
    receivedAt: at,
    data: {
      id: "AAAAAQAAAeE",
      uid: 481,
      path: "INBOX",
      date: at,
      subject: "Test message from Hookgate",
      from: { name: "Hookgate", address: "test@hookgate.invalid" },
      to: [{ name: "You", address: "you@example.com" }],
      messageId: "<test@hookgate.invalid>",
      text: { plain: "This is a test event sent by Hookgate to check the route's target." },
      flags: [],
      labels: ["\\Inbox"],
    },
  };
  // What a filter written against event.email reads in a route test.
  const email = emailViewOf(null, event.data, event.type, event.account);
  if (email) event.email = email;
  return event;
}
