/** SuperOffice Online tenant facts derived from superoffice.url: the ContextIdentifier and the default login URL. */

/** The last path segment of the installation URL (Cust12345 in https://online.superoffice.com/Cust12345), or null. */
export function contextIdentifierOf(installationUrl: string): string | null {
  try {
    const segments = new URL(installationUrl).pathname.split('/').filter((s) => s !== '');
    const last = segments[segments.length - 1];
    return last ? decodeURIComponent(last) : null;
  } catch {
    return null;
  }
}

/** Scheme and host of the installation URL + /login: where SuperOffice Online's PartnerSystemUser service lives. */
export function defaultLoginUrl(installationUrl: string): string {
  const url = new URL(installationUrl);
  return `${url.protocol}//${url.host}/login`;
}
