/**
 * A loopback TCP proxy for tests that need the network to fail under a real
 * client while the server keeps running: partition an instance from Redis
 * (`cut`, then `restore`), drop a client's connection as a broken link does
 * (`drop`), or make the peer go silent as a half-open connection does
 * (`stall`, then `resume`).
 */

interface Link {
  client: Deno.TcpConn;
  upstream: Deno.TcpConn;
  done: Promise<void>;
}

export class TcpProxy {
  readonly port: number;
  readonly #target: number;
  readonly #links = new Set<Link>();
  readonly #accepting = new Set<Promise<void>>();
  #listener: Deno.TcpListener | undefined;
  #stalled = false;
  #stallWaiters: (() => void)[] = [];

  private constructor(listener: Deno.TcpListener, target: number) {
    this.port = listener.addr.port;
    this.#target = target;
    this.#serve(listener);
  }

  /** Starts forwarding a free loopback port to `targetPort`. */
  static start(targetPort: number): TcpProxy {
    return new TcpProxy(Deno.listen({ hostname: "127.0.0.1", port: 0 }), targetPort);
  }

  /** Connections currently forwarded. */
  get connections(): number {
    return this.#links.size;
  }

  /** Closes every forwarded connection at once (no WebSocket close frame); keeps accepting. */
  drop(): void {
    for (const link of this.#links) closeLink(link);
  }

  /** Drops every connection and refuses new ones until {@linkcode TcpProxy.restore}. */
  cut(): void {
    this.#listener?.close();
    this.#listener = undefined;
    this.drop();
  }

  /** Accepts connections again after {@linkcode TcpProxy.cut}. */
  restore(): void {
    if (!this.#listener) this.#serve(Deno.listen({ hostname: "127.0.0.1", port: this.port }));
  }

  /**
   * Stops forwarding bytes (both ways) on every connection, leaving them open:
   * each side sees the other go silent. {@linkcode TcpProxy.resume} undoes it.
   */
  stall(): void {
    this.#stalled = true;
  }

  /** Forwards again after {@linkcode TcpProxy.stall}. */
  resume(): void {
    this.#stalled = false;
    for (const w of this.#stallWaiters.splice(0)) w();
  }

  /** Same as {@linkcode TcpProxy.cut}, for a proxy that is done. */
  stop(): void {
    this.cut();
  }

  /** Cuts everything and waits until every connection has wound down. */
  async close(): Promise<void> {
    this.resume();
    this.cut();
    await Promise.all(this.#accepting);
    await Promise.all([...this.#links].map((l) => l.done));
  }

  #serve(listener: Deno.TcpListener): void {
    this.#listener = listener;
    const accepting = this.#accept(listener);
    this.#accepting.add(accepting);
    accepting.finally(() => this.#accepting.delete(accepting));
  }

  async #accept(listener: Deno.TcpListener): Promise<void> {
    for (;;) {
      let client: Deno.TcpConn;
      try {
        client = await listener.accept();
      } catch {
        return; // listener closed
      }
      let upstream: Deno.TcpConn;
      try {
        upstream = await Deno.connect({ hostname: "127.0.0.1", port: this.#target });
      } catch {
        client.close();
        continue;
      }
      const link: Link = { client, upstream, done: Promise.resolve() };
      link.done = Promise.allSettled([
        this.#pump(client, upstream),
        this.#pump(upstream, client),
      ]).then(() => {
        closeLink(link);
        this.#links.delete(link);
      });
      this.#links.add(link);
    }
  }

  async #pump(from: Deno.TcpConn, to: Deno.TcpConn): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await from.read(buf);
        if (n === null) break;
        while (this.#stalled) await new Promise<void>((r) => this.#stallWaiters.push(r));
        let off = 0;
        while (off < n) off += await to.write(buf.subarray(off, n));
      }
    } finally {
      closeLink({ client: from, upstream: to, done: Promise.resolve() });
    }
  }
}

function closeLink(link: Link): void {
  for (const conn of [link.client, link.upstream]) {
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
}

/** Runs `fn` with a proxy to `targetPort` and always closes it. */
export async function withProxy(
  targetPort: number,
  fn: (proxy: TcpProxy) => Promise<void>,
): Promise<void> {
  const proxy = TcpProxy.start(targetPort);
  try {
    await fn(proxy);
  } finally {
    await proxy.close();
  }
}
