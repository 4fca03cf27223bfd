// Ctrl-C and SIGTERM for the long-running commands. Signals are caught from the moment a
// command begins, not once it is up: a signal that lands while the viewer is still spawning its
// player (or the broadcaster its ffmpeg) would otherwise kill the process with Node's default
// action and leave that child running with no one to stop it.

export type Stoppable = { stop(): Promise<void> };

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
/** Exit status for a second signal that cuts a clean stop short (128 + SIGINT). */
const FORCED_EXIT = 130;

export class Shutdown {
  /** Resolves with the first SIGINT or SIGTERM. */
  readonly caught: Promise<NodeJS.Signals>;
  private signalled = false;
  private readonly onSignal: (signal: NodeJS.Signals) => void;

  /** `signals` and `exit` are the process's own; tests give their stand-ins. */
  constructor(
    private readonly signals: Pick<NodeJS.EventEmitter, 'on' | 'off'> = process,
    private readonly exit: (code: number) => void = (code) => process.exit(code),
  ) {
    let resolve: (signal: NodeJS.Signals) => void = () => {};
    this.caught = new Promise((r) => {
      resolve = r;
    });
    this.onSignal = (signal) => {
      // A second signal means "now": the clean stop is taking too long for the user.
      if (this.signalled) {
        this.release();
        this.exit(FORCED_EXIT);
        return;
      }
      this.signalled = true;
      resolve(signal);
    };
    for (const s of SIGNALS) this.signals.on(s, this.onSignal);
  }

  /**
   * Runs until a signal (exit 0) or until `done` settles, then stops `parts` in order; a
   * rejection of `done` is rethrown once everything is stopped. A signal caught while the parts
   * were still starting stops them as soon as this is called.
   */
  async until(parts: Stoppable[], done: Promise<number> = new Promise(() => {}), onStop?: () => void): Promise<number> {
    const outcome = await Promise.race([
      this.caught.then(() => ({ code: 0 })),
      done.then(
        (code) => ({ code }),
        (error: unknown) => ({ error }),
      ),
    ]);
    // From here on a signal is a request to hurry, handled by onSignal.
    this.signalled = true;
    onStop?.();
    await Promise.allSettled(parts.map((p) => p.stop()));
    this.release();
    if ('error' in outcome) throw outcome.error;
    return outcome.code;
  }

  /** Gives the signals back to Node's default handling. */
  release(): void {
    for (const s of SIGNALS) this.signals.off(s, this.onSignal);
  }
}
