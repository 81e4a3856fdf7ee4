// Map: the small payload the billing system wants, not the whole email.
export default (event) => {
  const { subject, from, to, messageId, date } = event.data;
  return {
    kind: "invoice-mail",
    account: event.account,
    subject,
    from: from?.address ?? null,
    to: (to ?? []).map((r) => r.address),
    messageId,
    receivedAt: date ?? event.occurredAt,
  };
};
