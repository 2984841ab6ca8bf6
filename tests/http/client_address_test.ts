import assert from "node:assert/strict";
import { clientAddress, TrustedProxies } from "../../lib/http/client_address.ts";

const PROXIES = TrustedProxies.parse("127.0.0.1, 10.0.0.0/8, ::1, fd00::/8");

Deno.test("TrustedProxies.clientAddress walks X-Forwarded-For from the right past trusted hops", () => {
  const cases: [name: string, peer: string, xff: string | null | undefined, want: string][] = [
    ["no header: the peer", "127.0.0.1", undefined, "127.0.0.1"],
    ["null header: the peer", "127.0.0.1", null, "127.0.0.1"],
    ["empty header: the peer", "127.0.0.1", "", "127.0.0.1"],
    ["one hop from a trusted peer", "127.0.0.1", "203.0.113.7", "203.0.113.7"],
    ["trusted hops are skipped", "127.0.0.1", "203.0.113.7, 10.1.2.3, 10.0.0.5", "203.0.113.7"],
    ["a forged left part is not believed", "10.0.0.5", "6.6.6.6, 203.0.113.7", "203.0.113.7"],
    [
      "an untrusted hop stops the walk",
      "10.0.0.5",
      "10.9.9.9, 198.51.100.1, 10.0.0.6",
      "198.51.100.1",
    ],
    ["every hop trusted: the leftmost", "127.0.0.1", "10.0.0.9, 10.0.0.8", "10.0.0.9"],
    ["several headers joined", "127.0.0.1", "6.6.6.6, 192.0.2.1,10.0.0.2", "192.0.2.1"],
    ["spaces and empty entries", "127.0.0.1", " ,192.0.2.1 , ,10.0.0.2, ", "192.0.2.1"],
    ["IPv6 hops", "::1", "2001:db8::5, fd00::1", "2001:db8::5"],
    ["IPv6 hops in canonical form", "::1", "2001:DB8:0:0:0:0:0:05", "2001:db8::5"],
    ["IPv4 with a port", "127.0.0.1", "192.0.2.1:4711", "192.0.2.1"],
    ["bracketed IPv6 with a port", "127.0.0.1", "[2001:db8::1]:4711", "2001:db8::1"],
    ["bracketed IPv6", "127.0.0.1", "[2001:db8::1]", "2001:db8::1"],
    ["IPv4-mapped hop unmapped", "127.0.0.1", "::ffff:192.0.2.1", "192.0.2.1"],
    ["IPv4-mapped trusted hop skipped", "127.0.0.1", "192.0.2.1, ::ffff:10.0.0.3", "192.0.2.1"],
    [
      "garbage: the trusted hop that forwarded it",
      "127.0.0.1",
      "192.0.2.1, unknown, 10.0.0.3",
      "10.0.0.3",
    ],
    ["garbage next to the peer: the peer", "127.0.0.1", "192.0.2.1, unknown", "127.0.0.1"],
    ["leading-zero octets are garbage", "127.0.0.1", "010.0.0.1", "127.0.0.1"],
  ];
  for (const [name, peer, xff, want] of cases) {
    assert.equal(PROXIES.clientAddress(peer, xff), want, name);
    assert.equal(clientAddress(peer, xff, PROXIES), want, `${name} (function)`);
  }
});

Deno.test("TrustedProxies.clientAddress ignores the header when the peer is not trusted", () => {
  const cases: [peer: string, xff: string][] = [
    ["198.51.100.2", "127.0.0.1"],
    ["11.0.0.1", "192.0.2.1"],
    ["2001:db8::9", "192.0.2.1"],
    ["fe00::1", "192.0.2.1"],
    ["unknown", "192.0.2.1"],
    ["", "192.0.2.1"],
    ["::ffff:198.51.100.2", "192.0.2.1"],
  ];
  for (const [peer, xff] of cases) assert.equal(PROXIES.clientAddress(peer, xff), peer, peer);
  assert.equal(TrustedProxies.none().clientAddress("127.0.0.1", "192.0.2.1"), "127.0.0.1");
  assert.equal(TrustedProxies.parse("").clientAddress("127.0.0.1", "192.0.2.1"), "127.0.0.1");
});

Deno.test("TrustedProxies.clientAddress trusts an IPv4-mapped peer by its IPv4 entry, and the reverse", () => {
  assert.equal(PROXIES.clientAddress("::ffff:127.0.0.1", "192.0.2.1"), "192.0.2.1");
  assert.equal(PROXIES.clientAddress("::ffff:10.200.0.1", "192.0.2.1"), "192.0.2.1");
  const mapped = TrustedProxies.parse("::ffff:192.168.0.0/112");
  assert.equal(mapped.clientAddress("192.168.4.4", "192.0.2.1"), "192.0.2.1");
  assert.equal(mapped.clientAddress("192.169.0.1", "192.0.2.1"), "192.169.0.1");
});

Deno.test("TrustedProxies.trusts matches addresses, CIDR ranges and presets", () => {
  const cases: [list: string, address: string, want: boolean][] = [
    ["127.0.0.1", "127.0.0.1", true],
    ["127.0.0.1", "127.0.0.2", false],
    ["10.0.0.0/8", "10.255.255.255", true],
    ["10.0.0.0/8", "11.0.0.0", false],
    ["10.1.2.3/8", "10.200.0.1", true],
    ["172.16.0.0/12", "172.31.255.255", true],
    ["172.16.0.0/12", "172.32.0.0", false],
    ["192.168.1.128/25", "192.168.1.200", true],
    ["192.168.1.128/25", "192.168.1.127", false],
    ["0.0.0.0/0", "203.0.113.1", true],
    ["0.0.0.0/0", "2001:db8::1", false],
    ["::/0", "2001:db8::1", true],
    ["::/0", "203.0.113.1", true],
    ["::1", "::1", true],
    ["::1", "0:0:0:0:0:0:0:1", true],
    ["::1", "::2", false],
    ["fd00::/8", "fdff:1234::1", true],
    ["fd00::/8", "fe00::1", false],
    ["fe80::/10", "febf::1", true],
    ["fe80::/10", "fec0::1", false],
    ["2001:db8::/127", "2001:db8::1", true],
    ["2001:db8::/127", "2001:db8::2", false],
    ["1:2:3:4:5:6:7:8/128", "1:2:3:4:5:6:7:8", true],
    ["::ffff:10.0.0.1", "10.0.0.1", true],
    ["10.0.0.1", "::ffff:10.0.0.1", true],
    ["10.0.0.1", "::ffff:a00:1", true],
    ["10.0.0.1", "::10.0.0.1", false],
    ["10.0.0.1", "10.0.0.1:8080", true],
    ["loopback", "127.8.9.10", true],
    ["loopback", "::1", true],
    ["loopback", "10.0.0.1", false],
    ["LinkLocal", "169.254.3.4", true],
    ["uniquelocal", "192.168.0.1", true],
    ["uniquelocal", "fc00::1", true],
    ["uniquelocal", "8.8.8.8", false],
    ["10.0.0.0/8", "not-an-ip", false],
    ["10.0.0.0/8", "10.0.0", false],
  ];
  for (const [list, address, want] of cases) {
    assert.equal(TrustedProxies.parse(list).trusts(address), want, `${list} trusts ${address}`);
  }
});

Deno.test("TrustedProxies.parse takes a comma-separated string or an array and keeps the entries", () => {
  const fromString = TrustedProxies.parse(" 127.0.0.1 ,, fd00::/8 ,");
  assert.deepEqual(fromString.entries, ["127.0.0.1", "fd00::/8"]);
  assert.equal(fromString.empty, false);
  const fromArray = TrustedProxies.parse(["127.0.0.1", " ", "fd00::/8"]);
  assert.deepEqual(fromArray.entries, ["127.0.0.1", "fd00::/8"]);
  assert.equal(TrustedProxies.parse("").empty, true);
  assert.equal(TrustedProxies.parse([]).empty, true);
  assert.equal(TrustedProxies.none().empty, true);
});

Deno.test("TrustedProxies.parse refuses a bad entry with a RangeError quoting it", () => {
  const bad = [
    "10.0.0.0/33",
    "::/129",
    "10.0.0.0/-1",
    "10.0.0.0/",
    "10.0.0.0/8/8",
    "10.0.0.0/x",
    "256.0.0.1",
    "10.0.0",
    "10.0.0.01",
    "1.2.3.4.5",
    "localhost",
    "[::1]",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    "1::2::3",
    "12345::",
    ":1::",
    "::ffff:1.2.3",
    "fe80::1%eth0",
    "10.0.0.1:80",
    "constructor",
    "__proto__",
  ];
  for (const entry of bad) {
    assert.throws(
      () => TrustedProxies.parse(`127.0.0.1, ${entry}`),
      (err: unknown) =>
        err instanceof RangeError && err.message.includes(`"${entry}"`) &&
        /CIDR/.test(err.message),
      entry,
    );
  }
});

Deno.test("TrustedProxies.clientAddress writes IPv6 in RFC 5952 form", () => {
  const all = TrustedProxies.parse("127.0.0.1");
  const cases: [hop: string, want: string][] = [
    ["2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["0:0:0:0:0:0:0:0", "::"],
    ["1:0:0:0:0:0:0:0", "1::"],
    ["::ffff:c000:201", "192.0.2.1"],
    ["::192.0.2.1", "::c000:201"],
    ["1:2:3:4:5:6:192.0.2.1", "1:2:3:4:5:6:c000:201"],
  ];
  for (const [hop, want] of cases) assert.equal(all.clientAddress("127.0.0.1", hop), want, hop);
});

Deno.test("TrustedProxies.clientAddress works detached from its instance, as a callback", () => {
  const resolve: (peer: string, forwardedFor: string | undefined) => string = PROXIES.clientAddress;
  assert.equal(resolve("127.0.0.1", "192.0.2.1"), "192.0.2.1");
  assert.equal(resolve("192.0.2.50", "192.0.2.1"), "192.0.2.50");
});
