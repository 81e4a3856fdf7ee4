// Map: the small payload the billing system wants, not the whole email. EmailEngine nests the
// message in `data.data` (its webhook keeps `account` and `event` around it); events posted to
// /v1/events carry the message itself as `data`.
export default (event) => {
  const message = (event.sourceKind === "emailengine" ? event.data?.data : event.data) ?? {};
  const { subject, messageId, date } = message;
  return {
    kind: "invoice-mail",
    account: event.account,
    subject: subject ?? null,
    from: hookgate.addressList(message.from)[0]?.address ?? null,
    to: hookgate.addressList(message.to).map((r) => r.address),
    messageId: messageId ?? null,
    receivedAt: date ?? event.occurredAt,
  };
};
