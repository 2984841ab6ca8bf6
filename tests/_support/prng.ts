/**
 * mulberry32: a small seeded PRNG, so every randomised test can be replayed by
 * its seed. It lives in lib/load/seeded_random.ts, where the load tester's
 * payload generators use it too.
 */
export { seededRandom } from "../../lib/load/seeded_random.ts";
