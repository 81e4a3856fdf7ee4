import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError, loadConfig } from "./config/index.ts";
import { startGateway } from "./gateway.ts";
import { createLogger } from "./shared/logger.ts";

/** The admin token from HOOKGATE_ADMIN_TOKEN, else the one kept in the data directory (made on first start). */
function adminToken(dataDir: string, fromEnv: string | undefined): { token: string; path: string | null } {
  if (fromEnv) return { token: fromEnv, path: null };
  const path = resolve(dataDir, "admin-token");
  if (existsSync(path)) return { token: readFileSync(path, "utf8").trim(), path };
  mkdirSync(dataDir, { recursive: true });
  const token = `hgat_${randomBytes(24).toString("base64url")}`;
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return { token, path };
}

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`hookgate: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  if (!config.REDIS_URL && !config.HOOKGATE_REDIS_CLUSTER_NODES && !config.HOOKGATE_REDIS_SENTINELS) {
    process.stderr.write(
      "hookgate: REDIS_URL is not set (npm start runs a local redis-server for you; or set HOOKGATE_REDIS_CLUSTER_NODES or HOOKGATE_REDIS_SENTINELS)\n",
    );
    process.exit(1);
  }
  const { token, path } = adminToken(config.HOOKGATE_DATA_DIR, config.HOOKGATE_ADMIN_TOKEN);
  // The one logger of this process: the API's requests and every stage's errors (see gateway.ts).
  // The few lines below that say what the process is doing are plain text, at any log level.
  const logger = createLogger(config.HOOKGATE_LOG_LEVEL);
  const starting = startGateway(config, { adminToken: token, logger });

  // Handled from the start: workers deliver before the API listens, and a SIGTERM in between
  // must still finish their attempts rather than kill the process mid-delivery.
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    process.stderr.write(`hookgate: ${signal}: finishing in-flight work\n`);
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    starting
      .then((gateway) => gateway.close())
      .then(
        () => process.exit(0),
        (err) => {
          logger.fatal({ err }, "shutdown failed");
          process.exit(1);
        },
      );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));

  const gateway = await starting;
  if (closing) return;
  if (config.HOOKGATE_ROLE === "worker") {
    if (gateway.app && config.HOOKGATE_METRICS_PORT !== undefined) {
      const address = await gateway.app.listen({ port: config.HOOKGATE_METRICS_PORT, host: config.HOST });
      process.stderr.write(`hookgate: health and metrics on ${address}\n`);
    }
    process.stderr.write(`hookgate: workers running (role ${config.HOOKGATE_ROLE})\n`);
  } else if (gateway.app) {
    const address = await gateway.app.listen({ port: config.PORT, host: config.HOST });
    process.stderr.write(`hookgate: API on ${address} (role ${config.HOOKGATE_ROLE})\n`);
    if (path) process.stderr.write(`hookgate: admin token is in ${path}\n`);
  }
}

await main();
