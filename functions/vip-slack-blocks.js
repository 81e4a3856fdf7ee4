// Map: a Slack Block Kit message for VIP mail. Hookgate enforces Slack's limits on the result
// (50 blocks, 3000-character sections, 150-character headers, a text fallback), cutting with
// an ellipsis. Values from the email are escaped here so that a subject cannot ping <!channel>.
const esc = (s) =>
  String(s ?? "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");

export default (event) => {
  // EmailEngine nests the message in `data.data`; MailSlurp and events posted to /v1/events keep
  // it in `data`. hookgate.addressList reads every system's address shape.
  const message = (event.sourceKind === "emailengine" ? event.data?.data : event.data) ?? {};
  const { subject, text } = message;
  const from = hookgate.addressList(message.from)[0];
  const to = hookgate.addressList(message.to);
  const sender = from?.name ? `${from.name} <${from.address}>` : (from?.address ?? "unknown sender");
  const excerpt = String(text?.plain ?? "")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 280);
  return {
    text: `VIP mail from ${esc(sender)}: ${esc(subject)}`,
    blocks: [
      { type: "header", text: { type: "plain_text", text: `⭐ ${subject ?? "(no subject)"}` } },
      {
        type: "section",
        fields: [
          { type: "mrkdwn", text: `*From*\n${esc(sender)}` },
          { type: "mrkdwn", text: `*To*\n${esc(to.map((r) => r.address).join(", "))}` },
          { type: "mrkdwn", text: `*Account*\n${esc(event.account)}` },
        ],
      },
      ...(excerpt ? [{ type: "section", text: { type: "mrkdwn", text: `>${esc(excerpt)}` } }] : []),
      { type: "context", elements: [{ type: "mrkdwn", text: `Received ${esc(event.occurredAt)}` }] },
    ],
  };
};
