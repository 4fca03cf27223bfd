// The one way a part tells others what happened: a typed emitter, as EventTarget does it in
// browsers but without DOM events, usable by the core's drivers, the viewers and the UI alike.
// A listener that throws does not stop the others nor the emitter: its error is reported as
// an uncaught one, as EventTarget reports it.

type Listener<T> = (event: T) => void;

export class Emitter<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();

  /** @param onListenerError where a listener's error goes (default: reported as uncaught) */
  constructor(private readonly onListenerError: (err: unknown) => void = reportUncaught) {}

  /** Calls `fn` on each `type` event from now on; returns the function that stops it. */
  on<K extends keyof Events>(type: K, fn: Listener<Events[K]>): () => void {
    let set = this.listeners.get(type);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(type, set);
    }
    set.add(fn as Listener<never>);
    return () => set.delete(fn as Listener<never>);
  }

  emit<K extends keyof Events>(type: K, event: Events[K]): void {
    const set = this.listeners.get(type);
    if (set === undefined) return;
    for (const fn of [...set]) {
      try {
        (fn as Listener<Events[K]>)(event);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }

  /** Whether anyone listens for `type` (to skip building an event nobody reads). */
  has(type: keyof Events): boolean {
    return (this.listeners.get(type)?.size ?? 0) > 0;
  }

  clear(): void {
    this.listeners.clear();
  }
}

function reportUncaught(err: unknown): void {
  queueMicrotask(() => {
    throw err;
  });
}
