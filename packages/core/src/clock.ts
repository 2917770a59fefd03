/** A time source, injectable so tests can control it. */
export interface Clock {
  /** Milliseconds, monotonic within a process. */
  now(): number;
}

/** The real clock (`performance.now()`). */
export const systemClock: Clock = { now: () => performance.now() };

/** Human-readable messages. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

/** Logger writing to stderr. */
export const consoleLogger: Logger = {
  info: (m) => console.error(m),
  warn: (m) => console.error(`warning: ${m}`),
};

/** Logger that drops everything. */
export const silentLogger: Logger = { info: () => {}, warn: () => {} };
