/**
 * The client's address behind reverse proxies. Behind a proxy every request
 * comes from the proxy's address; the proxy names the client in
 * `X-Forwarded-For`, appending the address it received the request from to
 * whatever the request already carried. Only the hops appended by proxies we
 * trust are believable, so the header is read from the right, skipping
 * trusted hops, and the first untrusted hop is the client (the rule of nginx
 * `real_ip_recursive on` and Express `trust proxy`). When the peer itself is
 * not a trusted proxy the header is ignored: anyone can send one.
 *
 * Pure and runtime-neutral: no I/O, no Deno APIs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TrustedProxies } from "./client_address.ts";
 *
 * const proxies = TrustedProxies.parse("127.0.0.1, 10.0.0.0/8");
 * // The load balancer 10.0.0.5 forwarded for 203.0.113.7; the client forged "1.1.1.1".
 * assert.equal(proxies.clientAddress("127.0.0.1", "1.1.1.1, 203.0.113.7, 10.0.0.5"), "203.0.113.7");
 * // A request straight from the internet: its header is not believed.
 * assert.equal(proxies.clientAddress("198.51.100.2", "1.1.1.1"), "198.51.100.2");
 * ```
 *
 * @module
 */

/** An address as eight 16-bit groups; IPv4 is held IPv4-mapped (`::ffff:a.b.c.d`). */
type Groups = readonly number[];

/** A range of addresses: the first `bits` bits of `net`. */
interface Range {
  readonly net: Groups;
  readonly bits: number;
}

/** Named sets of ranges a trusted-proxies list may use, as Express's `trust proxy` does. */
const PRESETS: ReadonlyMap<string, readonly string[]> = new Map([
  ["loopback", ["127.0.0.0/8", "::1/128"]],
  ["linklocal", ["169.254.0.0/16", "fe80::/10"]],
  ["uniquelocal", ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]],
]);

const DOTTED = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseIPv4(text: string): number[] | undefined {
  const m = DOTTED.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1).map((part) =>
    (part.length > 1 && part[0] === "0") ? NaN : Number(part)
  );
  // Leading zeros are refused: some parsers read 010 as octal 8.
  if (octets.some((o) => !(o <= 255))) return undefined;
  return octets;
}

function fromIPv4(octets: readonly number[]): Groups {
  return [0, 0, 0, 0, 0, 0xffff, (octets[0] << 8) | octets[1], (octets[2] << 8) | octets[3]];
}

function parseHexGroups(text: string): number[] | undefined {
  if (text === "") return [];
  const groups: number[] = [];
  for (const part of text.split(":")) {
    if (!HEX_GROUP.test(part)) return undefined;
    groups.push(parseInt(part, 16));
  }
  return groups;
}

function parseIPv6(text: string): Groups | undefined {
  let head = text;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(":");
  if (lastColon >= 0 && text.includes(".", lastColon)) {
    // A dotted IPv4 in the last 32 bits, as in ::ffff:192.0.2.1.
    const octets = parseIPv4(text.slice(lastColon + 1));
    if (!octets) return undefined;
    tail = [(octets[0] << 8) | octets[1], (octets[2] << 8) | octets[3]];
    head = text.slice(0, lastColon + 1);
    // Keep a "::" before the IPv4 part; drop a single separating ":".
    if (!head.endsWith("::")) head = head.slice(0, -1);
  }
  const halves = head.split("::");
  if (halves.length > 2) return undefined;
  const left = parseHexGroups(halves[0]);
  const right = halves.length === 2 ? parseHexGroups(halves[1]) : [];
  if (!left || !right) return undefined;
  const given = left.length + right.length + tail.length;
  if (halves.length === 2) {
    if (given > 7) return undefined;
    return [...left, ...new Array<number>(8 - given).fill(0), ...right, ...tail];
  }
  return given === 8 ? [...left, ...tail] : undefined;
}

/** Parses a bare IPv4 or IPv6 address (no brackets, port or zone). */
function parseIp(text: string): Groups | undefined {
  if (text.includes(":")) return parseIPv6(text);
  const octets = parseIPv4(text);
  return octets && fromIPv4(octets);
}

/**
 * Parses one hop of `X-Forwarded-For` or a peer address: a bare address, or
 * one with a port as some proxies write it (`192.0.2.1:4711`, `[2001:db8::1]:4711`,
 * `[2001:db8::1]`).
 */
function parseHop(text: string): Groups | undefined {
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(text);
  if (bracketed) return parseIPv6(bracketed[1]);
  const v4WithPort = /^([\d.]+):\d{1,5}$/.exec(text);
  return parseIp(v4WithPort ? v4WithPort[1] : text);
}

function isMapped(groups: Groups): boolean {
  return groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
}

/** The address in its canonical text: dotted for IPv4 (and IPv4-mapped), RFC 5952 for IPv6. */
function formatIp(groups: Groups): string {
  if (isMapped(groups)) {
    return [groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff].join(".");
  }
  // RFC 5952: the longest run (first of equals) of two or more zero groups becomes "::".
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [best, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLength).join(":")}`;
}

function masked(groups: Groups, bits: number): Groups {
  return groups.map((g, i) => {
    const keep = Math.min(16, Math.max(0, bits - 16 * i));
    return g & ((0xffff << (16 - keep)) & 0xffff);
  });
}

function inRange(groups: Groups, range: Range): boolean {
  for (let i = 0; i < 8 && 16 * i < range.bits; i++) {
    const keep = Math.min(16, range.bits - 16 * i);
    const mask = (0xffff << (16 - keep)) & 0xffff;
    if (((groups[i] ^ range.net[i]) & mask) !== 0) return false;
  }
  return true;
}

function badEntry(entry: string, why: string): RangeError {
  return new RangeError(
    `Trusted proxy "${entry}" is not valid: ${why}. Expected IPv4 or IPv6 addresses or CIDR ranges ` +
      `such as 127.0.0.1, 10.0.0.0/8, ::1 or fd00::/8 (or loopback, linklocal, uniquelocal)`,
  );
}

function parseEntry(entry: string): Range[] {
  const preset = PRESETS.get(entry.toLowerCase());
  if (preset) return preset.flatMap(parseEntry);
  const slash = entry.indexOf("/");
  const addressText = slash < 0 ? entry : entry.slice(0, slash);
  const net = parseIp(addressText);
  if (!net) {
    throw badEntry(entry, `"${addressText}" is not an IPv4 or IPv6 address`);
  }
  // An IPv4 prefix counts within the IPv4-mapped range: /8 is the first 96 + 8 bits.
  const ipv4 = !addressText.includes(":");
  const maxBits = ipv4 ? 32 : 128;
  let bits = maxBits;
  if (slash >= 0) {
    const lengthText = entry.slice(slash + 1);
    bits = /^\d{1,3}$/.test(lengthText) ? Number(lengthText) : NaN;
    if (!(bits <= maxBits)) {
      throw badEntry(
        entry,
        `the prefix length "${lengthText}" must be a whole number from 0 to ${maxBits}`,
      );
    }
  }
  const total = ipv4 ? 96 + bits : bits;
  return [{ net: masked(net, total), bits: total }];
}

/**
 * A list of trusted reverse proxies, and the client address behind them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TrustedProxies } from "./client_address.ts";
 *
 * const proxies = TrustedProxies.parse(["::1", "fd00::/8"]);
 * assert.equal(proxies.trusts("fd12::7"), true);
 * assert.equal(proxies.clientAddress("::1", "2001:DB8:0:0:0:0:0:1, fd00::2"), "2001:db8::1");
 * assert.throws(() => TrustedProxies.parse("10.0.0.0/33"), RangeError);
 * ```
 */
export class TrustedProxies {
  readonly #ranges: readonly Range[];
  readonly #entries: readonly string[];

  private constructor(ranges: readonly Range[], entries: readonly string[]) {
    this.#ranges = ranges;
    this.#entries = entries;
  }

  /** A list that trusts no proxy: the peer is always the client. */
  static none(): TrustedProxies {
    return new TrustedProxies([], []);
  }

  /**
   * Parses a trusted-proxies list: a comma-separated string (spaces and empty
   * entries ignored) or an array of entries. Each entry is an IPv4 or IPv6
   * address (`127.0.0.1`, `::1`, `::ffff:10.0.0.1`), a CIDR range
   * (`10.0.0.0/8`, `fd00::/8`; bits below the prefix are ignored), or one of
   * the names `loopback`, `linklocal`, `uniquelocal`. IPv4 entries also match
   * the IPv4-mapped IPv6 form of their addresses, and the reverse.
   *
   * @throws {RangeError} naming the first bad entry, quoted.
   */
  static parse(list: string | readonly string[]): TrustedProxies {
    const entries = (typeof list === "string" ? list.split(",") : list)
      .map((e) => e.trim())
      .filter((e) => e.length > 0);
    return new TrustedProxies(entries.flatMap(parseEntry), entries);
  }

  /** The entries as given (trimmed), for logs. */
  get entries(): readonly string[] {
    return this.#entries;
  }

  /** True when no proxy is trusted. */
  get empty(): boolean {
    return this.#ranges.length === 0;
  }

  /** True when `address` (bare, or with a port) is a trusted proxy. */
  trusts(address: string): boolean {
    const groups = parseHop(address.trim());
    return groups !== undefined && this.#trustsGroups(groups);
  }

  /**
   * The client's address. `peer` is the socket's remote address;
   * `forwardedFor` the `X-Forwarded-For` value (repeated headers joined with
   * commas, as `Headers.get` does). Returns `peer` unchanged when it is not a
   * trusted proxy, is not an IP address, or no header came; otherwise the
   * first untrusted hop from the right, in canonical form (IPv4-mapped
   * addresses as dotted IPv4, IPv6 as RFC 5952). When every hop is trusted,
   * the leftmost. A hop that is not an address (`unknown`, garbage) stops the
   * walk: the answer is the trusted hop that forwarded it.
   *
   * Bound to its instance: pass it as a callback as it is
   * (`{ clientAddressOf: proxies.clientAddress }`).
   */
  readonly clientAddress = (peer: string, forwardedFor?: string | null): string => {
    const peerGroups = parseHop(peer);
    if (!forwardedFor || !peerGroups || !this.#trustsGroups(peerGroups)) return peer;
    let last: Groups | undefined;
    const hops = forwardedFor.split(",");
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i].trim();
      if (hop === "") continue;
      const groups = parseHop(hop);
      if (!groups) break;
      if (!this.#trustsGroups(groups)) return formatIp(groups);
      last = groups;
    }
    return last ? formatIp(last) : peer;
  };

  #trustsGroups(groups: Groups): boolean {
    return this.#ranges.some((range) => inRange(groups, range));
  }
}

/**
 * The client's address behind `trusted` proxies: see
 * {@linkcode TrustedProxies.clientAddress}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clientAddress, TrustedProxies } from "./client_address.ts";
 *
 * const trusted = TrustedProxies.parse("loopback");
 * assert.equal(clientAddress("::ffff:127.0.0.1", "192.0.2.9", trusted), "192.0.2.9");
 * assert.equal(clientAddress("192.0.2.1", "192.0.2.9", trusted), "192.0.2.1");
 * ```
 */
export function clientAddress(
  peer: string,
  forwardedFor: string | null | undefined,
  trusted: TrustedProxies,
): string {
  return trusted.clientAddress(peer, forwardedFor);
}
