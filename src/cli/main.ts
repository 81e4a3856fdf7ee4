import { runCli } from "./run.ts";

/** The CLI's process: bin/hookgate.js runs this file under Node 24. */
const code = await runCli(process.argv.slice(2), process.env, {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
});
// Done: keep-alive connections to the gateway would otherwise hold the process for seconds.
process.exit(code);
