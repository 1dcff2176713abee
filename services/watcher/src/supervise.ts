// Turns a long-running loop's promise into RunningService.failed: the runtime exits 1 so the orchestrator restarts
// the process, instead of a replica that stays ready but will never lead again.

/**
 * Resolves with an Error when `loop` rejects, or when it returns although `stopping` has not aborted (a loop that
 * should run until shutdown ended by itself). Stays pending after a clean stop. Never rejects.
 */
export function loopFailure(what: string, loop: Promise<unknown>, stopping: AbortSignal): Promise<Error> {
  return new Promise<Error>((resolve) => {
    loop.then(
      () => {
        if (!stopping.aborted) resolve(new Error(`${what} ended unexpectedly`));
      },
      (err: unknown) => {
        resolve(new Error(`${what} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err }));
      },
    );
  });
}
