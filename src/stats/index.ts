export {
  LATENCY_BOUNDS_MS,
  MINUTE_MS,
  type SeriesPoint,
  STATS_RETENTION_MS,
  type StatsAnswer,
} from "./stats-buckets.ts";
export { statsMinuteKey } from "./stats-keys.ts";
export { type StatsQuery, StatsReader } from "./stats-reader.ts";
export { type AttemptSeen, StatsRecorder } from "./stats-recorder.ts";
export { walkObservers } from "./walk-observers.ts";
