/** Resolves with the first SIGTERM or SIGINT; later signals are left to the default handlers' replacement (ignored). */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const handler = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', handler);
      process.off('SIGINT', handler);
      // A second Ctrl-C while shutting down should not kill us half-way; keep a no-op listener.
      process.on('SIGINT', () => undefined);
      process.on('SIGTERM', () => undefined);
      resolve(signal);
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
  });
}
