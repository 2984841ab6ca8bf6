/**
 * A scripted WebSocket peer on a real socket, for client tests that need what
 * the Floodgate server never does (no subprotocol selected, broken or
 * unfinished chunk sequences). It is not the server: each test scripts exactly
 * the frames it sends.
 */

/** One accepted connection of a {@linkcode ScriptedPeer}. */
export interface PeerConnection {
  readonly socket: WebSocket;
  /** The subprotocol the client asked for (first one), if any. */
  readonly requestedProtocol: string | undefined;
  /** Every message the client sent. */
  readonly received: (string | ArrayBuffer)[];
  /** Resolves once the socket is open. */
  readonly opened: Promise<void>;
}

export class ScriptedPeer {
  readonly url: string;
  readonly connections: PeerConnection[] = [];
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  #waiters: (() => void)[] = [];

  /**
   * Starts a peer on a free loopback port. It accepts the subprotocols in
   * `protocols` (the first one the client asks for that is listed).
   */
  constructor(protocols: readonly string[] = []) {
    this.#server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
      const asked = (req.headers.get("sec-websocket-protocol") ?? "").split(",")
        .map((p) => p.trim()).filter((p) => p.length > 0);
      const chosen = asked.find((p) => protocols.includes(p));
      const { socket, response } = Deno.upgradeWebSocket(
        req,
        chosen ? { protocol: chosen } : {},
      );
      socket.binaryType = "arraybuffer";
      const received: (string | ArrayBuffer)[] = [];
      socket.onmessage = (e) => received.push(e.data);
      const opened = new Promise<void>((r) => (socket.onopen = () => r()));
      this.connections.push({ socket, requestedProtocol: asked[0], received, opened });
      for (const w of this.#waiters.splice(0)) w();
      return response;
    });
    this.url = `ws://127.0.0.1:${this.#server.addr.port}/ws`;
  }

  /** Resolves with the `n`-th connection (1-based) once it is open. */
  async connection(n = 1): Promise<PeerConnection> {
    while (this.connections.length < n) await new Promise<void>((r) => this.#waiters.push(r));
    const c = this.connections[n - 1];
    await c.opened;
    return c;
  }

  /** Closes every connection and stops listening. */
  async close(): Promise<void> {
    for (const c of this.connections) {
      if (c.socket.readyState <= 1) c.socket.close(1000);
    }
    await this.#server.shutdown();
  }
}
