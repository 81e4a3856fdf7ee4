import swagger from "@fastify/swagger";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import { AuditLog, withScopeDoc } from "../access/index.ts";
import { HookgateError } from "../errors.ts";
import { auditApi } from "./audit-api.ts";
import { installAuditHook } from "./audit-hook.ts";
import { keyStoreOf, principalOf, requireKey } from "./auth.ts";
import { dashboardApi } from "./dashboard-api.ts";
import { deliveriesApi } from "./deliveries-api.ts";
import type { ApiDeps } from "./deps.ts";
import { docsApi } from "./docs-api.ts";
import { loadExampleBook } from "./docs-example-book.ts";
import { dryRunApi } from "./dry-run-api.ts";
import { clientErrorHandler, frameworkErrors, installErrorHandling } from "./error-handler.ts";
import { eventsApi } from "./events-api.ts";
import { healthApi } from "./health-api.ts";
import { ingestApi } from "./ingest-api.ts";
import { installJsonParser } from "./json-body.ts";
import { keysApi } from "./keys-api.ts";
import { measureHttp, metricsApi } from "./metrics-api.ts";
import { addExamples } from "./openapi-examples.ts";
import { playgroundApi } from "./playground-api.ts";
import { queuesBoardApi } from "./queues-board-api.ts";
import { routesApi } from "./routes-api.ts";
import { sourcesApi } from "./sources-api.ts";
import { statsApi } from "./stats-api.ts";
import { targetsApi } from "./targets-api.ts";
import { versionsApi } from "./versions-api.ts";

export interface BuildAppOptions {
  /** The process's logger (src/shared/logger.ts, which redacts credentials); none: nothing logged. */
  logger?: FastifyBaseLogger;
}

function baseApp(deps: ApiDeps, options: BuildAppOptions) {
  const app = Fastify({
    bodyLimit: deps.config.HOOKGATE_MAX_BODY_BYTES,
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    genReqId: () => crypto.randomUUID(),
    requestIdHeader: false,
    frameworkErrors,
    clientErrorHandler,
    // fastify's own 503 has its own body; refuseWhileClosing answers in the one error shape.
    return503OnClosing: false,
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app);
  refuseWhileClosing(app);
  measureHttp(app, deps.metrics);
  return app;
}

/**
 * Once close() has begun, a request can still arrive on a connection kept open by one in flight
 * (keep-alive, pipelining): it is refused before any handler runs, so nothing is half-accepted,
 * and the connection closes after the answer so the server can finish closing.
 */
function refuseWhileClosing(app: FastifyInstance): void {
  let closing = false;
  app.addHook("preClose", (done) => {
    closing = true;
    done();
  });
  app.addHook("onRequest", async (_request, reply) => {
    if (!closing) return;
    reply.header("connection", "close");
    throw new HookgateError("HG_ERR_SHUTTING_DOWN");
  });
}

/** What a worker-only process serves, so each one can be probed and scraped: health and metrics. */
export async function buildOpsApp(deps: ApiDeps, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = baseApp(deps, options);
  await app.register(healthApi(deps));
  await app.register(metricsApi(deps));
  return app;
}

/**
 * The HTTP API: one plugin per resource under /v1 (behind a key with the scope each route declares,
 * or the admin token; every change recorded in the audit trail), health outside it.
 */
export async function buildApp(deps: ApiDeps, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = baseApp(deps, options);
  const examples = await loadExampleBook();
  const audit = new AuditLog(
    deps.redis,
    deps.config.HOOKGATE_KEY_PREFIX,
    deps.config.HOOKGATE_AUDIT_RETENTION_S,
    deps.config.HOOKGATE_AUDIT_RETENTION_COUNT,
  );
  installJsonParser(app);

  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Hookgate",
        version: "0.1.0",
        description: "Programmable webhook routing gateway for email events.",
      },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      security: [{ bearer: [] }],
    },
    // Each operation's scope (its route's config.scope) in the document.
    transform: (input) => {
      const out = jsonSchemaTransform(input);
      return { ...out, schema: withScopeDoc(out.schema, input.route.config?.scope) };
    },
    transformObject: (input) => addExamples(jsonSchemaTransformObject(input), examples),
  });

  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  await app.register(healthApi(deps));
  await app.register(docsApi);
  await app.register(metricsApi(deps));
  await app.register(queuesBoardApi(deps));
  await app.register(
    async (v1) => {
      requireKey(v1, deps);
      installAuditHook(v1, {
        stores: { store: deps.store, sources: deps.sources, log: deps.log, keys: keyStoreOf(deps) },
        log: audit,
        principalOf,
      });
      await v1.register(keysApi(deps));
      await v1.register(auditApi(audit));
      await v1.register(routesApi(deps));
      await v1.register(versionsApi(deps));
      await v1.register(eventsApi(deps));
      await v1.register(dryRunApi(deps));
      await v1.register(deliveriesApi(deps));
      await v1.register(sourcesApi(deps));
      await v1.register(targetsApi(deps));
      await v1.register(statsApi(deps));
    },
    { prefix: "/v1" },
  );
  // Senders authenticate with their own signature or credentials, not a key.
  await app.register(ingestApi(deps), { prefix: "/v1/ingest" });
  // The browser playground: HTTP Basic with the admin token (a page cannot send a bearer header).
  await app.register(playgroundApi(deps));
  // The delivery dashboard, authenticated the same way.
  await app.register(dashboardApi(deps));
  return app;
}
