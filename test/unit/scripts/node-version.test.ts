import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";

/* .nvmrc is the Node version's one home: what cannot read it must say the same. */

const read = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), "utf8");
const pinned = read(".nvmrc").trim();

describe("the Node version", () => {
  it("is one full version in .nvmrc, which scripts/lib.sh reads", () => {
    assert.match(pinned, /^\d+\.\d+\.\d+$/);
    assert.match(read("scripts/lib.sh"), /NODE_VERSION_PIN="\$\(tr -d 'v \\r\\n' <"\$ROOT\/\.nvmrc"\)"/);
  });

  it("is the Dockerfile's default and package.json's engines major", () => {
    assert.equal(/^ARG NODE_VERSION=(.+)$/m.exec(read("Dockerfile"))?.[1], pinned);
    assert.equal(JSON.parse(read("package.json")).engines.node, `>=${pinned.split(".")[0]}`);
  });
});
