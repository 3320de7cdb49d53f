/**
 * The headers every response of the web server carries. The app is built by
 * Vite into files under /assets (no inline script or style, no CDN), so the
 * policy allows this origin only, plus fetches and the event stream to the
 * orchestrator's API, which runs on another port and so is another origin.
 */

/** The origin of the API base `/config.json` reports, for `connect-src`; undefined if it is relative (same origin). */
export function apiOrigin(apiBase: string): string | undefined {
  try {
    const url = new URL(apiBase);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

export function contentSecurityPolicy(apiBase: string): string {
  const api = apiOrigin(apiBase);
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    "manifest-src 'self'",
    `connect-src 'self'${api ? ` ${api}` : ''}`,
    "base-uri 'none'",
    "form-action 'self'",
    // Nobody may frame the shop (clickjacking the "Place order" or "Kill leader" buttons).
    "frame-ancestors 'none'",
  ].join('; ');
}

export function securityHeaders(apiBase: string): Record<string, string> {
  return {
    'content-security-policy': contentSecurityPolicy(apiBase),
    // For browsers that predate frame-ancestors.
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
  };
}
