import type { Job, Queue } from "bullmq";
import { DELIVER_JOB_NAME, DeliverJobSchema } from "./delivery-job.ts";

/*
 * The deliveries waiting in the delayed set for a target an operator just resumed: deferred by
 * its pause or breaker (they would come back when that was due to end, up to 6 hours on), and
 * retries scheduled after its failures or as its Retry-After said. Their jobs carry only the
 * delivery and route ids, so they are found by route: every delayed delivery job of the
 * target's routes is made due now.
 */

/** Delayed jobs read per page. */
const PAGE = 1_000;
/** Promotions sent at once. */
const BURST = 100;

/**
 * Makes every delayed delivery job of these routes due now; answers how many. Flush jobs (a
 * batch's own timer) stay as they are. A job that left the delayed set meanwhile (a worker took
 * it, it was promoted twice) is skipped.
 */
export async function promoteWaiting(queue: Queue, routeIds: ReadonlySet<string>): Promise<number> {
  if (routeIds.size === 0) return 0;
  const due: Job[] = [];
  // Read to the end before promoting any: promoting shifts the delayed set under the pages.
  for (let start = 0; ; start += PAGE) {
    const page = (await queue.getDelayed(start, start + PAGE - 1)) as Job[];
    for (const job of page) {
      if (job?.name !== DELIVER_JOB_NAME) continue;
      const data = DeliverJobSchema.safeParse(job.data);
      if (data.success && routeIds.has(data.data.routeId)) due.push(job);
    }
    if (page.length < PAGE) break;
  }
  let promoted = 0;
  for (let i = 0; i < due.length; i += BURST) {
    const results = await Promise.allSettled(due.slice(i, i + BURST).map((job) => job.promote()));
    promoted += results.filter((r) => r.status === "fulfilled").length;
  }
  return promoted;
}
