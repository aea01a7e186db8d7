/** The canonical IANA name of `zone`, or undefined if this runtime does not know it. */
export function canonicalTimeZone(zone: string): string | undefined {
  if (zone.trim() === '') return undefined;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}
