// Ordered teardown for benches: steps run in reverse order of registration,
// each at most once, every step tried even when one fails.

export class Cleanup {
  private steps: { what: string; fn: () => Promise<void> | void }[] = [];

  add(what: string, fn: () => Promise<void> | void): void {
    this.steps.push({ what, fn });
  }

  /** Run (and forget) every registered step; returns the failures as messages. */
  async run(timeoutMs = 30_000): Promise<string[]> {
    const failures: string[] = [];
    const steps = this.steps.reverse();
    this.steps = [];
    for (const { what, fn } of steps) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.resolve().then(fn),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
      } catch (err) {
        failures.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        clearTimeout(timer);
      }
    }
    return failures;
  }
}
