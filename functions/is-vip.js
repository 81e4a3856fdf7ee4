// Filter: new mail from the people who must never wait.
const VIPS = ["ada@example.com", "grace@example.org"];
const VIP_DOMAINS = ["board.example.com"];

export default (event) => {
  const address = String(event.data?.from?.address ?? "").toLowerCase();
  return VIPS.includes(address) || VIP_DOMAINS.some((d) => address.endsWith(`@${d}`));
};
