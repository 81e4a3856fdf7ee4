import { z } from "zod";
import { type PreviousSecret, TargetPatchSchema, TargetSchema } from "../delivery/index.ts";
import { DisplayNameSchema } from "../shared/display-name.ts";
import { TemplateSchema } from "../templates/index.ts";

/** Svix's schedule: after the immediate first try, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
export const DEFAULT_RETRY_SCHEDULE_MS = [
  5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
] as const;

export const MAX_FUNCTION_BYTES = 256 * 1024;

export const RetrySchema = z.strictObject({
  scheduleMs: z
    .array(
      z
        .int()
        .min(0)
        .max(7 * 24 * 3600 * 1000),
    )
    .max(25)
    .default([...DEFAULT_RETRY_SCHEDULE_MS]),
  on4xx: z.boolean().default(false),
});

// Globs on the event type: * is any run of characters, ? one character.
const EventGlobSchema = z
  .string()
  .min(1)
  .max(200)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  .regex(/^[^\x00-\x1f\x7f]+$/, "must not contain control characters");

const FunctionSourceSchema = z.string().min(1).max(MAX_FUNCTION_BYTES).nullable();

// A source id (src_…) or a source kind (emailengine, stalwart, …); the route takes only their events.
const SourceRefSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_.:-]+$/, "must be a source id (src_…) or a source kind");
const SourcesSchema = z
  .array(SourceRefSchema)
  .min(1)
  .max(100)
  .describe("Only events from these sources, by id (src_…) or kind (emailengine, …); absent: every source");

/** The route's own function limits; the gateway's HOOKGATE_FUNCTION_* settings are the maxima. */
export const FunctionLimitsSchema = z
  .strictObject({
    timeoutMs: z.int().min(10).max(60_000).optional().describe("Deadline of one filter or map call"),
    memoryLimitMb: z.int().min(8).max(1024).optional().describe("Heap limit of the route's isolate"),
  })
  .describe("Lowered to the gateway's caps when larger");

const OrderingSchema = z
  .enum(["none", "fifo"])
  .describe("fifo: this route's deliveries go out strictly in ingest order, each waiting for the one before");

export const WhileDisabledSchema = z
  .enum(["hold", "drop"])
  .describe(
    "What the route does with its events while it is turned off: hold them as `held` deliveries, sent in order when it is turned on again, or drop them. A route Hookgate turned off itself (a 410, a gone chat webhook, failing for days) always holds.",
  );

export const BatchSchema = z
  .strictObject({
    maxEvents: z.int().min(1).max(1_000).default(100),
    maxWaitMs: z.int().min(0).max(3_600_000).default(1_000),
  })
  .describe('Send {"events": [...]} with up to maxEvents bodies, at most maxWaitMs after the first');

const routeFields = {
  name: DisplayNameSchema,
  enabled: z.boolean().default(true),
  events: z.array(EventGlobSchema).min(1).max(100).default(["*"]),
  sources: SourcesSchema.optional(),
  filter: FunctionSourceSchema.optional(),
  map: FunctionSourceSchema.optional(),
  limits: FunctionLimitsSchema.optional(),
  template: TemplateSchema.nullable().optional(),
  target: TargetSchema,
  retry: RetrySchema.prefault({}),
  stop: z.boolean().default(false),
  ordering: OrderingSchema.default("none"),
  batch: BatchSchema.nullable().optional(),
  whileDisabled: WhileDisabledSchema.default("hold"),
};

export const RouteInSchema = z.strictObject(routeFields).meta({
  id: "RouteIn",
  example: {
    name: "invoices to billing",
    events: ["messageNew"],
    filter: 'export default (event) => /invoice/i.test(event.data.subject ?? "")',
    target: { url: "https://billing.example.com/hooks/email" },
  },
});
export type RouteIn = z.infer<typeof RouteInSchema>;

/** PATCH: top-level fields replace; `target` merges one level deep so a secret need not be resent. */
export const RoutePatchSchema = z
  .strictObject({
    name: routeFields.name.optional(),
    enabled: z.boolean().optional(),
    events: z.array(EventGlobSchema).min(1).max(100).optional(),
    sources: SourcesSchema.nullable().optional().describe("null removes the restriction"),
    filter: FunctionSourceSchema.optional(),
    map: FunctionSourceSchema.optional(),
    limits: FunctionLimitsSchema.nullable().optional(),
    template: TemplateSchema.nullable().optional(),
    target: TargetPatchSchema.optional(),
    retry: z
      .strictObject({ scheduleMs: RetrySchema.shape.scheduleMs.optional(), on4xx: z.boolean().optional() })
      .optional(),
    stop: z.boolean().optional(),
    ordering: OrderingSchema.optional(),
    batch: BatchSchema.nullable().optional().describe("null turns batching off"),
    whileDisabled: WhileDisabledSchema.optional(),
  })
  .meta({ id: "RoutePatch" });
export type RoutePatch = z.infer<typeof RoutePatchSchema>;

/** A stored route: what was given, with every default applied, plus identity and version. */
export interface Route extends Omit<RouteIn, "filter" | "map" | "template" | "limits" | "whileDisabled"> {
  /** Absent on routes stored before it existed: "hold". */
  whileDisabled?: RouteIn["whileDisabled"];
  limits?: RouteIn["limits"] | null;
  id: string;
  version: number;
  createdAt: string;
  updatedAt: string;
  filter: string | null;
  map: string | null;
  template: RouteIn["template"] | null;
  /** Why Hookgate disabled the route itself (the receiver said the webhook is gone), if it did. */
  disabledReason: string | null;
  batch?: RouteIn["batch"] | null;
  /** Secrets replaced by a rotation that still sign alongside the current one until `expiresAt`. */
  previousSecrets?: PreviousSecret[];
}
