// Filter: fire for new mail whose subject mentions an invoice.
export default (event) => /\binvoice\b/i.test(event.data?.subject ?? "");
