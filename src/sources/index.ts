export {
  ADAPTERS,
  MAX_EVENTS_PER_INGEST,
  type SourceAdapter,
  TIMESTAMP_TOLERANCE_S,
} from "./adapters/index.ts";
export { normalizeEvent } from "./api-event.ts";
export { emailView, emailViewOf, type RawView, type ViewOptions } from "./email-view/index.ts";
export { authenticate, eventsFromRequest, parseJsonBody } from "./ingest.ts";
export { sampleEvent } from "./sample-event.ts";
export { eventsOfSample, listSamples, type SampleFile } from "./samples.ts";
export {
  applySourcePatch,
  buildSource,
  SOURCE_KINDS,
  type Source,
  type SourceAuth,
  type SourceIn,
  SourceInSchema,
  type SourceKind,
  type SourceOut,
  SourceOutSchema,
  type SourcePatch,
  SourcePatchSchema,
  toSourceOut,
} from "./source-schema.ts";
export { SourceStore } from "./source-store.ts";
export { checkAuth, type IngestInput, safeEqual } from "./verify.ts";
