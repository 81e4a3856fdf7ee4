// Filter: fire for new mail whose subject mentions an invoice. The subject is in event.email when
// the event has Hookgate's normalised view; else EmailEngine keeps it in `data.data`, other
// senders and events posted to /v1/events in `data`.
export default (event) => {
  const message = event.sourceKind === "emailengine" ? event.data?.data : event.data;
  return /\binvoice\b/i.test(event.email?.subject ?? message?.subject ?? "");
};
