/**
 * A SuperOffice that echoes the caller's credentials back (as a careless or hostile server might, in a
 * task's text or an error message): for proving that batchwatch never lets them out again.
 * Placeholders {{ticket}} and {{applicationToken}}, optionally with :base64, :url or :lower
 * ({{ticket:base64}}), are replaced by what the request carried.
 */
import { escapeXml } from '../superoffice/xml.ts';

const PLACEHOLDER = /\{\{(ticket|applicationToken)(?::(base64|url|lower))?\}\}/g;

export interface EchoedCredentials {
  ticket?: string | undefined;
  applicationToken?: string | undefined;
}

function encoded(value: string, form: string | undefined): string {
  if (form === 'base64') return Buffer.from(value, 'utf8').toString('base64');
  if (form === 'url') return encodeURIComponent(value);
  if (form === 'lower') return value.toLowerCase();
  return value;
}

/** `xml` (a whole answer) with every placeholder replaced by the request's credential, XML-escaped. */
export function echoCredentials(xml: string, credentials: EchoedCredentials): string {
  if (!xml.includes('{{')) return xml;
  return xml.replace(PLACEHOLDER, (_, name: keyof EchoedCredentials, form: string | undefined) =>
    escapeXml(encoded(credentials[name] ?? '', form)),
  );
}
