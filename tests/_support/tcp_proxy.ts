/**
 * A loopback TCP proxy for tests that need the network to fail under a real
 * client: cut every connection (as a dropped link does) or stall them (as a
 * half-open connection does), while the server keeps running.
 */

interface Link {
  client: Deno.TcpConn;
  upstream: Deno.TcpConn;
  done: Promise<unknown>;
}

export class TcpProxy {
  readonly port: number;
  readonly #listener: Deno.TcpListener;
  readonly #targetPort: number;
  readonly #links = new Set<Link>();
  readonly #accepting: Promise<void>;
  #stalled = false;
  #stallWaiters: (() => void)[] = [];

  private constructor(listener: Deno.TcpListener, targetPort: number) {
    this.#listener = listener;
    this.port = listener.addr.port;
    this.#targetPort = targetPort;
    this.#accepting = this.#accept();
  }

  /** Listens on a free loopback port and forwards to `targetPort`. */
  static start(targetPort: number): TcpProxy {
    return new TcpProxy(Deno.listen({ hostname: "127.0.0.1", port: 0 }), targetPort);
  }

  /** Connections currently forwarded. */
  get connections(): number {
    return this.#links.size;
  }

  /** Closes every forwarded connection at once, without a WebSocket close frame. */
  cut(): void {
    for (const link of this.#links) this.#closeLink(link);
  }

  /**
   * Stops forwarding bytes (both ways) on existing and new connections, leaving
   * them open: to the client the server goes silent. `resume()` undoes it.
   */
  stall(): void {
    this.#stalled = true;
  }

  /** Forwards again after {@linkcode TcpProxy.stall}. */
  resume(): void {
    this.#stalled = false;
    for (const w of this.#stallWaiters.splice(0)) w();
  }

  /** Cuts every connection and stops listening. */
  async close(): Promise<void> {
    this.resume();
    this.#listener.close();
    this.cut();
    await this.#accepting;
    await Promise.all([...this.#links].map((l) => l.done));
  }

  async #accept(): Promise<void> {
    for (;;) {
      let client: Deno.TcpConn;
      try {
        client = await this.#listener.accept();
      } catch {
        return; // listener closed
      }
      let upstream: Deno.TcpConn;
      try {
        upstream = await Deno.connect({ hostname: "127.0.0.1", port: this.#targetPort });
      } catch {
        client.close();
        continue;
      }
      const link: Link = { client, upstream, done: Promise.resolve() };
      link.done = Promise.allSettled([this.#pump(client, upstream), this.#pump(upstream, client)])
        .then(() => {
          this.#closeLink(link);
          this.#links.delete(link);
        });
      this.#links.add(link);
    }
  }

  async #pump(from: Deno.TcpConn, to: Deno.TcpConn): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    for (;;) {
      const n = await from.read(buf);
      if (n === null) break;
      while (this.#stalled) await new Promise<void>((r) => this.#stallWaiters.push(r));
      let off = 0;
      while (off < n) off += await to.write(buf.subarray(off, n));
    }
    this.#closeLink({ client: from, upstream: to, done: Promise.resolve() });
  }

  #closeLink(link: Link): void {
    for (const conn of [link.client, link.upstream]) {
      try {
        conn.close();
      } catch {
        // already closed
      }
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
