/**
 * Batches every DOM update of the page into one pass per animation frame:
 * views mark themselves dirty and call `request()`; the pass runs each view's
 * `render()` once, in the next `requestAnimationFrame` callback. It also keeps
 * the numbers that prove it (passes, passes per frame).
 *
 * @module
 */

/** A part of the page that renders in the scheduler's pass. */
export interface View {
  /** Applies pending changes to the DOM; called once per pass. */
  render(frameTime: number): void;
}

/** What the scheduler did. */
export interface RenderStats {
  /** DOM update passes run. */
  passes: number;
  /** Most passes seen within one animation frame (1 when throttling works). */
  maxPassesPerFrame: number;
  /** Duration of the latest pass, ms. */
  lastPassMs: number;
  /** Longest pass, ms. */
  maxPassMs: number;
}

/**
 * Runs views' `render()` in one pass per animation frame.
 *
 * @example
 * ```ts ignore
 * const scheduler = new RenderScheduler(requestAnimationFrame);
 * scheduler.add({ render: () => (el.textContent = String(count)) });
 * socket.onmessage = () => { count++; scheduler.request(); }; // at most one DOM write per frame
 * ```
 */
export class RenderScheduler {
  readonly #raf: (cb: (time: number) => void) => unknown;
  readonly #views: View[] = [];
  readonly #afterPass: ((time: number) => void)[] = [];
  readonly #stats: RenderStats = { passes: 0, maxPassesPerFrame: 0, lastPassMs: 0, maxPassMs: 0 };
  #scheduled = false;
  #lastFrameTime = Number.NaN;
  #passesThisFrame = 0;

  constructor(raf: (cb: (time: number) => void) => unknown) {
    this.#raf = raf;
  }

  /** Adds a view; views render in the order they were added. */
  add(view: View): void {
    this.#views.push(view);
  }

  /** Runs `fn` at the end of every pass, after all views rendered. */
  afterPass(fn: (time: number) => void): void {
    this.#afterPass.push(fn);
  }

  /** Asks for a pass in the next animation frame (once, however often it is called). */
  request(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#raf((time) => this.#pass(time));
  }

  /** Number of passes so far; the page's mutation check reads it. */
  get passes(): number {
    return this.#stats.passes;
  }

  /** A copy of the numbers. */
  stats(): RenderStats {
    return { ...this.#stats };
  }

  #pass(time: number): void {
    this.#scheduled = false;
    const started = performance.now();
    if (time === this.#lastFrameTime) this.#passesThisFrame++;
    else this.#passesThisFrame = 1;
    this.#lastFrameTime = time;
    const s = this.#stats;
    s.passes++;
    s.maxPassesPerFrame = Math.max(s.maxPassesPerFrame, this.#passesThisFrame);
    for (const view of this.#views) view.render(time);
    for (const fn of this.#afterPass) fn(time);
    s.lastPassMs = performance.now() - started;
    s.maxPassMs = Math.max(s.maxPassMs, s.lastPassMs);
  }
}
