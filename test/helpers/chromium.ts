/** The browser the page tests drive: CHROMIUM_PATH (any Chromium or Chrome binary), else Debian's. */
export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

export const CHROMIUM_MISSING = `${CHROMIUM} is missing: set CHROMIUM_PATH to a Chromium or Chrome binary, or install chromium (scripts/test.sh does with apt-get, and says what to run elsewhere)`;
