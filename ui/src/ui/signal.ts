// Observable values: the app's state lives in a few of these and views subscribe to them.

export class Signal<T> {
  private listeners = new Set<(value: T) => void>();
  constructor(private current: T) {}

  get value(): T {
    return this.current;
  }

  set(value: T): void {
    if (Object.is(value, this.current)) return;
    this.current = value;
    for (const listener of [...this.listeners]) listener(value);
  }

  update(fn: (value: T) => T): void {
    this.set(fn(this.current));
  }

  /** Calls `fn` now and on every change; returns the unsubscribe function. */
  subscribe(fn: (value: T) => void, immediate = true): () => void {
    this.listeners.add(fn);
    if (immediate) fn(this.current);
    return () => this.listeners.delete(fn);
  }
}
