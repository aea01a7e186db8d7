/** Small, pure formatting helpers for alert mail. */

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch] ?? ch);
}

export function truncate(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, Math.max(0, max - 1))}…`;
}

/** Multi-line text from SuperOffice: normalized line ends, other control characters dropped, bounded length. */
export function block(value: string, max = 8000): string {
  const normalized = value
    .replace(/\r\n?/g, '\n')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '')
    .trimEnd();
  return normalized.length <= max ? normalized : `${normalized.slice(0, max)}\n… (truncated, ${normalized.length - max} more characters)`;
}

/** UTC ISO 8601 without milliseconds when they are zero: 2024-05-01T10:00:00Z. */
export function isoUtc(ms: number): string {
  if (!Number.isFinite(ms)) return 'unknown';
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}

/** Elapsed time for people, rounded to its two largest units ("1h5m"); config durations use config/duration.ts. */
export function formatElapsed(ms: number): string {
  const totalSeconds = Math.max(0, Math.floor(ms / 1000));
  if (totalSeconds < 60) return `${totalSeconds}s`;
  const totalMinutes = Math.floor(totalSeconds / 60);
  if (totalMinutes < 60) return `${totalMinutes}m`;
  const totalHours = Math.floor(totalMinutes / 60);
  if (totalHours < 24) {
    const minutes = totalMinutes % 60;
    return minutes ? `${totalHours}h${minutes}m` : `${totalHours}h`;
  }
  const days = Math.floor(totalHours / 24);
  const hours = totalHours % 24;
  return hours ? `${days}d${hours}h` : `${days}d`;
}

/** Encodes an arbitrary string into RFC 5322 dot-atom-safe text (injective): [A-Za-z0-9_-] kept, the rest as =XX. */
export function atomSafe(value: string): string {
  return Array.from(new TextEncoder().encode(value))
    .map((byte) => {
      const ch = String.fromCharCode(byte);
      return /[A-Za-z0-9_-]/.test(ch) ? ch : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

/** The domain of an address like `"batchwatch" <bw@example.com>`, for stable Message-IDs. */
export function addressDomain(address: string): string | undefined {
  return /@([^>\s]+)>?\s*$/.exec(address.trim())?.[1];
}

/** A hostname usable as the right-hand side of a Message-ID. */
export function messageIdDomain(hostname: string): string {
  const cleaned = hostname
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '')
    .replace(/\.{2,}/g, '.')
    .replace(/^[.-]+|[.-]+$/g, '');
  return cleaned || 'localhost';
}
