import type { Receiver } from "./retry-policy.ts";

const SLACK_HOSTS = /(^|\.)slack\.com$/i;
const DISCORD_HOSTS = /(^|\.)(discord\.com|discordapp\.com)$/i;

/** Slack or Discord by the route's template kind, or by the webhook's well-known host. */
export function receiverOf(url: string, templateKind: string | null | undefined): Receiver {
  if (templateKind === "slack" || templateKind === "discord") return templateKind;
  let host = "";
  try {
    host = new URL(url).hostname;
  } catch {
    return "generic";
  }
  if (SLACK_HOSTS.test(host)) return "slack";
  if (DISCORD_HOSTS.test(host)) return "discord";
  return "generic";
}
