import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { SourceAuth } from "./source-schema.ts";

/** What an adapter sees of an ingest request: the exact body bytes and the headers. */
export interface IngestInput {
  raw: Buffer;
  headers: IncomingHttpHeaders;
}

/** A header's value (the first when repeated), or undefined. Names are lower case in node. */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

const digest = (value: string | Buffer) => createHash("sha256").update(value).digest();

/**
 * Constant-time equality of two strings: both are hashed first, so timingSafeEqual always
 * compares equal-length buffers and the time taken says nothing about where they differ.
 */
export function safeEqual(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** Basic auth or a header token, as configured on the source. */
export function checkAuth(auth: SourceAuth, headers: IncomingHttpHeaders): boolean {
  if (auth.type === "header") {
    const value = header(headers, auth.name);
    // Compare even when absent so a missing header costs the same as a wrong one.
    return safeEqual(value ?? "", auth.value) && value !== undefined;
  }
  const match = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header(headers, "authorization") ?? "");
  const given = match?.[1] ? Buffer.from(match[1], "base64").toString("utf8") : "";
  return safeEqual(given, `${auth.username}:${auth.password}`) && match !== null;
}
