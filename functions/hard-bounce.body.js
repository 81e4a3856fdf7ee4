// Filter in EmailEngine style: a function body with `payload` in scope.
// Fires for permanent bounces only (action "failed" or a 5.x.x status); soft bounces are
// retried by the sending MTA anyway.
const action = String(payload.data?.action ?? "");
const status = String(payload.data?.response?.status ?? payload.data?.status ?? "");
if (payload.type !== "messageBounce" && payload.type !== "bounce") return false;
return action === "failed" || status.startsWith("5");
