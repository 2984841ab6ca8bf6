/** A TCP proxy on loopback that a test can cut and restore, to partition one instance from Redis. */
export class TcpProxy {
  readonly port: number;
  readonly #target: number;
  #listener: Deno.TcpListener | undefined;
  #conns = new Set<Deno.TcpConn>();

  private constructor(port: number, target: number) {
    this.port = port;
    this.#target = target;
  }

  /** Starts forwarding a free local port to `targetPort`. */
  static start(targetPort: number): TcpProxy {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const proxy = new TcpProxy((listener.addr as Deno.NetAddr).port, targetPort);
    proxy.#serve(listener);
    return proxy;
  }

  /** Drops every connection and refuses new ones. */
  cut(): void {
    this.#listener?.close();
    this.#listener = undefined;
    for (const c of this.#conns) {
      try {
        c.close();
      } catch {
        // already closed
      }
    }
    this.#conns.clear();
  }

  /** Accepts connections again. */
  restore(): void {
    this.#serve(Deno.listen({ hostname: "127.0.0.1", port: this.port }));
  }

  stop(): void {
    this.cut();
  }

  #serve(listener: Deno.TcpListener): void {
    this.#listener = listener;
    (async () => {
      for await (const client of listener) {
        let upstream: Deno.TcpConn;
        try {
          upstream = await Deno.connect({ hostname: "127.0.0.1", port: this.#target });
        } catch {
          client.close();
          continue;
        }
        this.#conns.add(client);
        this.#conns.add(upstream);
        const end = () => {
          for (const c of [client, upstream]) {
            this.#conns.delete(c);
            try {
              c.close();
            } catch {
              // already closed
            }
          }
        };
        client.readable.pipeTo(upstream.writable, { preventClose: true }).catch(() => {}).finally(
          end,
        );
        upstream.readable.pipeTo(client.writable, { preventClose: true }).catch(() => {}).finally(
          end,
        );
      }
    })().catch(() => {});
  }
}
