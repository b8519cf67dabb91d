/**
 * Secrets that can ride inside text we log or print: `api_key=user:pass` (ARI's query-string
 * credentials, used by the events WebSocket) and the userinfo of a URL (`http://user:pass@host`).
 */
export function redactSecrets(text: string): string {
  return text.replace(/api_key=[^&\s]*/gi, 'api_key=[redacted]').replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1[redacted]@');
}
