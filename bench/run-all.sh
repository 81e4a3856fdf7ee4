#!/usr/bin/env bash
# npm run bench: every benchmark in turn at its default size (about 8 minutes on 2 cores, most of
# it the 2 × 60 s of the latency run). Each prints its own ratios, measured in that one run.
# bench/sandbox.ts (the sandbox's own costs) is not part of it: `node bench/sandbox.ts`.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== end to end (bench/end-to-end.ts)"
node bench/end-to-end.ts
echo
echo "== latency at a fixed rate (bench/latency.ts)"
node bench/latency.ts
echo
echo "== scale with routes (bench/routes-scale.ts)"
node --expose-gc bench/routes-scale.ts
echo
echo "== scale out: worker processes (bench/scale-out.ts)"
node bench/scale-out.ts
echo
echo "== Redis cost per event (bench/redis-cost.ts)"
node bench/redis-cost.ts
