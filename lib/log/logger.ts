/**
 * Structured logs: one JSON object per line, `{"ts", "level", "event", ...fields}`.
 *
 * @module
 */

/** Log levels, least to most severe. */
export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

/** Fields attached to one log event. */
export type LogFields = Record<string, unknown>;

/** Where log lines go. @default the console: stdout (debug, info), stderr (warn, error) */
export type LogSink = (line: string, level: Exclude<LogLevel, "silent">) => void;

/** Options of {@linkcode Logger}. */
export interface LoggerOptions {
  /** Least severe level written. @default {"info"} */
  level?: LogLevel;
  /** Receives each line. */
  sink?: LogSink;
  /** Fields added to every line. */
  base?: LogFields;
}

/** Writes to the console, which every runtime (Deno Deploy included) collects. */
function defaultSink(line: string, level: Exclude<LogLevel, "silent">): void {
  if (level === "warn" || level === "error") console.error(line);
  else console.log(line);
}

/**
 * A structured JSON logger. Pass one instance down; there is no global logger.
 *
 * @example
 * ```ts
 * import { Logger } from "./logger.ts";
 * const lines: string[] = [];
 * const log = new Logger({ sink: (line) => lines.push(line) });
 * log.info("client.connect", { clientId: "c1" });
 * JSON.parse(lines[0]).event; // "client.connect"
 * ```
 */
export class Logger {
  readonly #rank: number;
  readonly #sink: LogSink;
  readonly #base: LogFields;

  constructor(options: LoggerOptions = {}) {
    const level = options.level ?? "info";
    if (!(level in RANK)) {
      throw new RangeError(
        `Log level "${level}" is not one of debug, info, warn, error, silent`,
      );
    }
    this.#rank = RANK[level];
    this.#sink = options.sink ?? defaultSink;
    this.#base = options.base ?? {};
  }

  /** True when events at `level` are written. */
  enabled(level: Exclude<LogLevel, "silent">): boolean {
    return RANK[level] >= this.#rank;
  }

  /** Writes a debug event. */
  debug(event: string, fields?: LogFields): void {
    this.#write("debug", event, fields);
  }

  /** Writes an info event. */
  info(event: string, fields?: LogFields): void {
    this.#write("info", event, fields);
  }

  /** Writes a warning event. */
  warn(event: string, fields?: LogFields): void {
    this.#write("warn", event, fields);
  }

  /** Writes an error event. */
  error(event: string, fields?: LogFields): void {
    this.#write("error", event, fields);
  }

  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger {
    return new Logger({
      level: (Object.keys(RANK) as LogLevel[]).find((l) => RANK[l] === this.#rank),
      sink: this.#sink,
      base: { ...this.#base, ...fields },
    });
  }

  #write(level: Exclude<LogLevel, "silent">, event: string, fields?: LogFields): void {
    if (RANK[level] < this.#rank) return;
    const line = JSON.stringify(
      { ts: new Date().toISOString(), level, event, ...this.#base, ...fields },
      (_key, value) =>
        value instanceof Error ? { name: value.name, message: value.message } : value,
    );
    this.#sink(line, level);
  }
}
