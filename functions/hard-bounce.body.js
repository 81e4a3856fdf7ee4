// Filter in EmailEngine style: a function body. `payload` is the webhook as its sender sent it
// (EmailEngine's webhook, or one item of Mailtrap's batch), `event` is Hookgate's event.
// Fires for permanent bounces only; soft bounces are retried by the sending MTA anyway.
if (payload.event === "messageBounce") {
  // EmailEngine: action "failed", or a 5.x.x status.
  const status = String(payload.data?.response?.status ?? "");
  return payload.data?.action === "failed" || status.startsWith("5");
}
// Mailtrap reports a hard bounce as "bounce" (a soft one is "soft bounce").
return payload.event === "bounce";
