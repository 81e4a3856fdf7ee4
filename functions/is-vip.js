// Filter: new mail from the people who must never wait, whichever system reports it.
// The sender comes from event.email (Hookgate's normalised view of an email event) when the event
// has one, else from the sender's own body: EmailEngine nests the message in `data.data`;
// MailSlurp ("ada@example.com") and events posted to /v1/events keep it in `data`.
// hookgate.addressList reads every system's address shape.
const VIPS = ["ada@example.com", "grace@example.org"];
const VIP_DOMAINS = ["board.example.com"];

export default (event) => {
  const message = event.sourceKind === "emailengine" ? event.data?.data : event.data;
  const [sender] = hookgate.addressList(event.email?.from ?? message?.from);
  const address = String(sender?.address ?? "").toLowerCase();
  return VIPS.includes(address) || VIP_DOMAINS.some((d) => address.endsWith(`@${d}`));
};
