// What a composition root started, undone in reverse order. Each start step registers its undo
// as soon as it has succeeded; stop(), or a later step that fails, undoes them all, last first,
// so nothing (a child process, a timer, a listening socket) outlives a start that failed half
// way. One undo that fails does not keep the others from running.

type Undo = () => unknown;

export class Teardown {
  private readonly undos: Undo[] = [];
  private undoing: Promise<void> | undefined;

  /**
   * @param onUndoError where an undo's error goes when a failed start is being undone (the
   *   start's own error is the one thrown then)
   */
  constructor(private readonly onUndoError: (err: unknown) => void = () => {}) {}

  /**
   * Registers the undo of a step that has just succeeded. Once undoing has begun, a step that
   * still succeeds (a late callback) is undone at once.
   */
  defer(undo: Undo): void {
    if (this.undoing === undefined) this.undos.push(undo);
    else void this.undoing.then(undo, undo).catch(this.onUndoError);
  }

  /**
   * Runs a start: when it throws, everything registered so far is undone before its error is
   * rethrown.
   */
  async start<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      await this.undo().catch(this.onUndoError);
      throw err;
    }
  }

  /**
   * Undoes every registered step, last first, each awaited. Throws the first undo's error (all
   * of them when several failed) once every undo has run. Calling it again returns the same run.
   */
  undo(): Promise<void> {
    this.undoing ??= this.undoAll();
    return this.undoing;
  }

  private async undoAll(): Promise<void> {
    const errors: unknown[] = [];
    for (const undo of this.undos.splice(0).reverse()) {
      try {
        await undo();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} steps could not be undone`);
  }
}
