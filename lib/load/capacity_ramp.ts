/**
 * The capacity ramp's decisions: after each stage, was it within the limits,
 * and where is the knee (the last stage that was).
 *
 * @module
 */
import { fmtMs } from "./format.ts";
import type { RampOptions } from "./load_config.ts";

/** What was measured during one stage. */
export interface StageMeasurement {
  /** Subscribers connected during the stage. */
  clients: number;
  p50: number;
  p99: number;
  max: number;
  /** Mean messages/s a fast client received during the stage. */
  perClientPerSec: number;
  /** Connections attempted and failed when the stage's subscribers were added. */
  connectAttempted: number;
  connectFailed: number;
  /** Fast clients the server closed so far. */
  closed: number;
  /** Server CPU over the stage (% of one core) and RSS at its end, when known. */
  cpuPercent?: number;
  rssBytes?: number;
}

/** One stage and its verdict. */
export interface RampStage extends StageMeasurement {
  ok: boolean;
  /** Why the stage broke the ramp. */
  reason?: string;
}

/** The ramp's outcome. */
export interface CapacityResult {
  options: RampOptions;
  expectedPerClient: number;
  stages: RampStage[];
  /** The last stage within the limits. */
  knee: RampStage | undefined;
  /** The first stage over a limit, if the ramp got there. */
  broken: RampStage | undefined;
  /** One sentence saying what was found. */
  verdict: string;
}

/**
 * Judges stages one by one.
 *
 * @example
 * ```ts ignore
 * const ramp = new CapacityRamp(options, 20);
 * const stage = ramp.judge(measurement);
 * if (!ramp.done) connect(ramp.nextStep(currentClients));
 * ```
 */
export class CapacityRamp {
  readonly #options: RampOptions;
  readonly #expected: number;
  readonly #stages: RampStage[] = [];

  /** @param expectedPerClient messages/s each subscriber should receive. */
  constructor(options: RampOptions, expectedPerClient: number) {
    this.#options = options;
    this.#expected = expectedPerClient;
  }

  /** Stages judged so far. */
  get stages(): readonly RampStage[] {
    return this.#stages;
  }

  /** True once a stage broke a limit or the ramp reached its most clients. */
  get done(): boolean {
    const last = this.#stages.at(-1);
    return last !== undefined && (!last.ok || last.clients >= this.#options.maxClients);
  }

  /** How many subscribers to add for the next stage, with `current` connected. */
  nextStep(current: number): number {
    return Math.max(0, Math.min(this.#options.step, this.#options.maxClients - current));
  }

  /** Records a stage and decides whether it stayed within the limits. */
  judge(m: StageMeasurement): RampStage {
    const o = this.#options;
    const reasons: string[] = [];
    if (m.p99 > o.p99LimitMs) reasons.push(`p99 ${fmtMs(m.p99)} ms > ${o.p99LimitMs} ms`);
    const ratio = this.#expected > 0 ? m.perClientPerSec / this.#expected : 1;
    if (ratio < o.minDeliveryRatio) {
      reasons.push(
        `clients got ${Math.round(ratio * 100)} % of the expected ${this.#expected} msgs/s`,
      );
    }
    const failRate = m.connectAttempted > 0 ? m.connectFailed / m.connectAttempted : 0;
    if (failRate > o.maxConnectFailureRate) {
      reasons.push(`${m.connectFailed} of ${m.connectAttempted} connections failed`);
    }
    if (m.closed > 0) reasons.push(`${m.closed} fast clients were closed by the server`);
    const stage: RampStage = reasons.length === 0
      ? { ...m, ok: true }
      : { ...m, ok: false, reason: reasons.join("; ") };
    this.#stages.push(stage);
    return stage;
  }

  /** The outcome so far. */
  result(): CapacityResult {
    const knee = this.#stages.findLast((s) => s.ok);
    const broken = this.#stages.find((s) => !s.ok);
    let verdict: string;
    if (broken && knee) {
      verdict = `Knee at ${knee.clients} subscribers (p99 ${
        fmtMs(knee.p99)
      } ms); at ${broken.clients}: ${broken.reason}.`;
    } else if (broken) {
      verdict = `Already the first stage (${broken.clients} subscribers) broke: ${broken.reason}.`;
    } else if (knee) {
      verdict = `No knee found up to ${knee.clients} subscribers (p99 ${
        fmtMs(knee.p99)
      } ms); raise --max-clients or --duration.`;
    } else {
      verdict = "No stage completed; raise --duration.";
    }
    return {
      options: this.#options,
      expectedPerClient: this.#expected,
      stages: [...this.#stages],
      knee,
      broken,
      verdict,
    };
  }
}
