/**
 * Drains the node when the package manager that started it goes away.
 *
 * `npm start` (and any `npm run`) forwards SIGTERM and SIGINT to its direct child only. When the
 * script is `andon serve x.js`, that child is `sh -c "andon serve x.js"`, and dash (Debian's `sh`)
 * neither execs the command nor forwards the signal: the shell dies, node is orphaned, and the
 * supervisor that sent SIGTERM (systemd, Docker, a CI runner) waits while nothing drains. This
 * package's own `start` script uses `exec` so npm's child is node itself; for users' scripts, a
 * node started by npm (`npm_lifecycle_event` is set) that finds its parent gone sends itself
 * SIGTERM, which takes the runtime's normal signal path: drain, then exit 0 (or 3).
 */

/** Options of {@link watchParent}. */
export interface ParentWatchOptions {
  /** How often the parent pid is checked. Default 500 ms. */
  intervalMs?: number;
  /** Environment to read `npm_lifecycle_event` from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Starts watching when the process runs under npm; returns a stop function, or undefined when not
 * watching. Stops by itself on the first SIGTERM or SIGINT, so a forwarded signal followed by npm
 * exiting is one drain, not a second signal that would force the exit.
 */
export function watchParent(options: ParentWatchOptions = {}): (() => void) | undefined {
  if (!(options.env ?? process.env).npm_lifecycle_event) return undefined;
  const parent = process.ppid;
  const stop = (): void => {
    clearInterval(timer);
    process.removeListener('SIGTERM', stop);
    process.removeListener('SIGINT', stop);
  };
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    stop();
    process.kill(process.pid, 'SIGTERM');
  }, options.intervalMs ?? 500);
  // The watch alone must not keep the process alive.
  timer.unref();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return stop;
}
