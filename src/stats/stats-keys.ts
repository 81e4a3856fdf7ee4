/** The hash of one minute's counters (fields: `<routeId or *>|<counter>`), under the key prefix. */
export const statsMinuteKey = (prefix: string, minuteMs: number): string =>
  `${prefix}:stats:m:${minuteMs / 60_000}`;
