/** Checks of the mail section that relate several keys (mail.oauth2 vs credentials in mail.smtp, one grant, https token endpoint). */
import { issue, type PathIssue } from './issues.ts';
import { smtpUrlHasUserinfo, smtpUrlProblem } from './smtp-url.ts';

type Mapping = Record<string, unknown>;

const isMapping = (value: unknown): value is Mapping => value !== null && typeof value === 'object' && !Array.isArray(value);
const given = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Looks at the interpolated document (like relations.ts), so these are reported together with field errors. */
export function checkMailServer(document: unknown): PathIssue[] {
  const mail = isMapping(document) ? document.mail : undefined;
  if (!isMapping(mail)) return [];
  const issues: PathIssue[] = [];
  const smtp = mail.smtp;
  const oauth2 = mail.oauth2;
  const smtpUsable = given(smtp) && smtpUrlProblem(smtp) === undefined;

  if (isMapping(oauth2)) {
    if (smtpUsable && smtpUrlHasUserinfo(smtp)) {
      issues.push(issue(['mail', 'smtp'], 'has user:password while mail.oauth2 is set: remove them (XOAUTH2 logs in as mail.oauth2.user)'));
    }
    const scope = given(oauth2.scope);
    const refreshToken = given(oauth2.refreshToken);
    if (scope && refreshToken) {
      issues.push(issue(['mail', 'oauth2'], 'give scope (client-credentials grant) or refreshToken (refresh-token grant), not both'));
    } else if (!scope && !refreshToken) {
      issues.push(
        issue(
          ['mail', 'oauth2'],
          'needs scope (client-credentials grant, e.g. Microsoft 365) or refreshToken (refresh-token grant, e.g. Gmail)',
        ),
      );
    }
    const tokenUrl = oauth2.tokenUrl;
    if (given(tokenUrl)) {
      try {
        const url = new URL(tokenUrl.trim());
        if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
          issues.push(issue(['mail', 'oauth2', 'tokenUrl'], 'must be an https:// URL (http:// only for a token endpoint on this machine)'));
        }
      } catch {
        // Reported by the field check.
      }
    }
  }
  return issues;
}
