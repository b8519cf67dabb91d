/** Asterisk's JSON timestamp format: `2026-11-22T02:21:27.662+0000` (UTC here). */
export function asteriskTimestamp(ms: number = Date.now()): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}
