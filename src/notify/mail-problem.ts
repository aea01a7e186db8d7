/** Mail configuration problems: failures that no retry fixes, each with a one-line hint naming the config key to change. */

/** The one list of causes (metric label values, history details, docs). */
export const MAIL_PROBLEM_CAUSES = ['certificate', 'authentication', 'tls-mode', 'plaintext-auth', 'smtp-url'] as const;
export type MailProblemCause = (typeof MAIL_PROBLEM_CAUSES)[number];

/**
 * A reason mail cannot be delivered until the operator changes something (mail.smtp, mail.tls.ca,
 * mail.oauth2, SMTP_PASSWORD) or the server is fixed. Delivery pauses instead of burning retries.
 */
export interface MailProblem {
  cause: MailProblemCause;
  /** One line: what is wrong and which key to change. Never contains a secret. */
  message: string;
}
