/**
 * Wait for a condition instead of sleeping and then counting: `cond` is polled every `everyMs`
 * until it holds; after `timeoutMs` the wait fails naming `what` (and the last value seen), so a
 * slow machine makes a test slower, never wrong.
 */
export async function waitUntil<T>(
  what: string,
  cond: () => T | Promise<T>,
  {timeoutMs = 5000, everyMs = 5}: {timeoutMs?: number; everyMs?: number} = {},
): Promise<NonNullable<T>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v as NonNullable<T>;
    if (performance.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
