/** A throwaway redis-server for integration tests (Debian's package; `.ci/run` installs it). */

export const REDIS_BIN = "/usr/bin/redis-server";

/** True when redis-server is installed; tests needing it are ignored otherwise. */
export const hasRedis = (() => {
  try {
    return Deno.statSync(REDIS_BIN).isFile;
  } catch {
    return false;
  }
})();

/** Why Redis tests are ignored on this machine, for the test names. */
export const redisMissing = hasRedis
  ? ""
  : " (ignored: redis-server not installed; .ci/run installs it)";

export class RedisServer {
  readonly port: number;
  readonly dir: string;
  #child: Deno.ChildProcess | undefined;

  private constructor(port: number, dir: string) {
    this.port = port;
    this.dir = dir;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts redis-server on a free port, without persistence unless `persist`. */
  static async start(options: { persist?: boolean } = {}): Promise<RedisServer> {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    const server = new RedisServer(port, await Deno.makeTempDir({ prefix: "floodgate-redis-" }));
    await server.#spawn(options.persist ?? false);
    return server;
  }

  /** Kills the server (SIGKILL: no save) and waits for it to exit. */
  async kill(): Promise<void> {
    this.#child?.kill("SIGKILL");
    await this.#child?.status;
    this.#child = undefined;
  }

  /** Starts it again on the same port (and directory). */
  async restart(options: { persist?: boolean } = {}): Promise<void> {
    await this.#spawn(options.persist ?? false);
  }

  async stop(): Promise<void> {
    await this.kill();
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }

  /** Runs a redis-cli command against it. */
  async cli(...args: string[]): Promise<string> {
    const out = await new Deno.Command("redis-cli", { args: ["-p", String(this.port), ...args] })
      .output();
    return new TextDecoder().decode(out.stdout).trim();
  }

  async #spawn(persist: boolean): Promise<void> {
    const args = [
      "--port",
      String(this.port),
      "--bind",
      "127.0.0.1",
      "--dir",
      this.dir,
      "--save",
      "",
    ];
    args.push("--appendonly", persist ? "yes" : "no");
    if (persist) args.push("--appendfsync", "always");
    this.#child = new Deno.Command(REDIS_BIN, { args, stdout: "null", stderr: "null" }).spawn();
    for (let i = 0; i < 100; i++) {
      try {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: this.port });
        conn.close();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error(`redis-server did not start on port ${this.port}`);
  }
}
