/** Reading event times, which arrive as ISO strings or unix numbers depending on the email system. */

/** Below this a number is unix seconds (Mailtrap), above it milliseconds: 1e11 s is the year 5138. */
const SECONDS_BELOW = 1e11;

/** A Date for an ISO string or unix time (seconds or milliseconds), or null when it is not one. */
export function parseTime(value: unknown): Date | null {
  let ms: number;
  if (typeof value === "number" && Number.isFinite(value))
    ms = Math.abs(value) < SECONDS_BELOW ? value * 1000 : value;
  else if (typeof value === "string" && value.trim() !== "") ms = Date.parse(value);
  else if (value instanceof Date) ms = value.getTime();
  else return null;
  if (!Number.isFinite(ms)) return null;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** ISO 8601 (UTC) for anything parseTime accepts, else null. */
export function isoTime(value: unknown): string | null {
  return parseTime(value)?.toISOString() ?? null;
}
