import swaggerUi from "@fastify/swagger-ui";
import type { FastifyPluginAsync } from "fastify";

/**
 * Swagger UI at /docs, over the same document as /openapi.json. Public, like that document: the
 * page holds no data and no secret, and "Try it out" sends the token the reader types into
 * Authorize as a bearer header; it is kept in the page only (not in localStorage).
 */
export const docsApi: FastifyPluginAsync = async (app) => {
  await app.register(swaggerUi, {
    routePrefix: "/docs",
    uiConfig: { persistAuthorization: false, displayRequestDuration: true, docExpansion: "list" },
  });
};
