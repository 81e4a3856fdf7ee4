/** The browser the page tests drive: CHROMIUM_PATH (any Chromium or Chrome binary), else Debian's. */
export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

export const CHROMIUM_MISSING = `${CHROMIUM} is missing: set CHROMIUM_PATH to a Chromium or Chrome binary, or install chromium (scripts/test.sh does with apt-get, and says what to run elsewhere)`;

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

/** Flags that keep headless Chromium off the network (this machine has none but loopback). */
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A fresh headless browser profile that answers the pages' HTTP Basic prompt with `token`. */
export async function openBrowser(
  token: string,
): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = await mkdtemp(join(tmpdir(), "hookgate-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: FLAGS,
    httpCredentials: { username: "admin", password: token },
    viewport: { width: 1440, height: 1100 },
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
