import assert from "node:assert/strict";
import {
  fdReserve,
  fdSoftLimit,
  openFdCount,
  parseFdSoftLimit,
  socketBudget,
} from "../../lib/transport/fd_limit.ts";

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

Deno.test("parseFdSoftLimit reads the soft limit of the Max open files line", () => {
  assert.equal(parseFdSoftLimit(LIMITS), 1024);
  assert.equal(parseFdSoftLimit(LIMITS.replace("1024 ", "unlimited ")), Infinity);
  assert.equal(parseFdSoftLimit("Max cpu time unlimited unlimited seconds"), undefined);
});

Deno.test("fdSoftLimit is undefined when /proc/self/limits cannot be read", () => {
  assert.equal(fdSoftLimit(() => undefined), undefined);
  assert.equal(fdSoftLimit(() => LIMITS), 1024);
});

Deno.test("fdSoftLimit reads the limit prlimit set on a child process", async () => {
  const out = await new Deno.Command("prlimit", {
    args: [
      "--nofile=300",
      Deno.execPath(),
      "eval",
      `import { fdSoftLimit, openFdCount } from "${
        new URL("../../lib/transport/fd_limit.ts", import.meta.url).href
      }"; console.log(JSON.stringify([fdSoftLimit(), openFdCount()]))`,
    ],
    env: { DENO_NO_UPDATE_CHECK: "1" },
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const [limit, open] = JSON.parse(new TextDecoder().decode(out.stdout));
  assert.equal(limit, 300);
  assert.ok(open > 3 && open < 300, `open descriptors: ${open}`);
});

Deno.test("openFdCount counts this process's descriptors, and one more once a file is open", () => {
  const before = openFdCount();
  assert.ok(before !== undefined && before > 3);
  using _file = Deno.openSync(new URL(import.meta.url));
  assert.equal(openFdCount(), before + 1);
});

Deno.test("socketBudget leaves the open descriptors and the reserve free", () => {
  assert.equal(fdReserve(256), 128);
  assert.equal(fdReserve(65536), 4096);
  assert.equal(socketBudget(1024, 30), 1024 - 30 - 128);
  assert.equal(socketBudget(100, 30), 1);
  assert.equal(socketBudget(Infinity, 30), undefined);
});
