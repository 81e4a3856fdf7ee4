// Node-RED headless on loopback for bench/peers.ts (bench/peer-node-red.ts starts it with this).
module.exports = {
  uiHost: "127.0.0.1",
  uiPort: Number(process.env.NODE_RED_PORT),
  httpAdminRoot: false,
  disableEditor: true,
  flowFile: "flow.json",
  credentialSecret: false,
  functionExternalModules: true,
  externalModules: { autoInstall: false },
  diagnostics: { enabled: false },
  runtimeState: { enabled: false },
  telemetry: { enabled: false },
  logging: { console: { level: "info", metrics: false, audit: false } },
};
