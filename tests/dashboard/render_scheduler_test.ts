import assert from "node:assert/strict";
import { RenderScheduler } from "../../lib/dashboard/render_scheduler.ts";

/** A hand-cranked requestAnimationFrame. */
function fakeFrames() {
  let queue: ((t: number) => void)[] = [];
  return {
    raf: (cb: (t: number) => void) => queue.push(cb),
    frame(time: number) {
      const run = queue;
      queue = [];
      for (const cb of run) cb(time);
    },
    get pending() {
      return queue.length;
    },
  };
}

Deno.test("RenderScheduler runs one pass per frame however often it is asked", () => {
  const frames = fakeFrames();
  const scheduler = new RenderScheduler(frames.raf);
  const renders: number[] = [];
  scheduler.add({ render: (t) => renders.push(t) });
  for (let i = 0; i < 100; i++) scheduler.request();
  assert.equal(frames.pending, 1, "one frame callback for 100 requests");
  frames.frame(16);
  scheduler.request();
  frames.frame(32);
  frames.frame(48); // nothing requested: no pass
  assert.deepEqual(renders, [16, 32]);
  assert.equal(scheduler.stats().passes, 2);
  assert.equal(scheduler.stats().maxPassesPerFrame, 1);
});

Deno.test("RenderScheduler counts two passes in one frame", () => {
  const frames = fakeFrames();
  const scheduler = new RenderScheduler(frames.raf);
  const order: string[] = [];
  scheduler.add({ render: () => order.push("view") });
  scheduler.afterPass(() => order.push("after"));
  scheduler.request();
  frames.frame(16);
  // A second callback in the same frame (same timestamp), as a bug would cause.
  scheduler.request();
  frames.frame(16);
  assert.equal(scheduler.stats().maxPassesPerFrame, 2);
  assert.deepEqual(order, ["view", "after", "view", "after"]);
});
