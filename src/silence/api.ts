/**
 * The JSON API of silences and acknowledgements, independent of the HTTP server: each operation takes what the
 * request carried and returns the answer (status and JSON), or throws an ApiError (status, message, field).
 * Reads are open like /metrics; writes require the admin token (admin-auth.ts), checked before a body is read.
 */
import { scrubSecrets } from '../redact/secrets.ts';
import { adminCheck } from './admin-auth.ts';
import { NoActiveAlertError, type SilenceControls } from './controls.ts';
import { ackJson, alertJson, silenceJson, windowJson } from './json.ts';
import { RequestError } from './requests.ts';
import { SilenceNotFoundError } from './silence-store.ts';
import type { CallbackLevel } from '../log-levels.ts';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    // Messages may quote what the client sent; nothing secret leaves in an answer.
    super(scrubSecrets(message));
  }
}

export interface ApiAnswer {
  status: number;
  body: unknown;
}

export type SilenceApiLog = (level: Extract<CallbackLevel, 'info' | 'warn'>, msg: string, fields?: Record<string, unknown>) => void;

export class SilenceApi {
  private readonly check: ReturnType<typeof adminCheck>;

  constructor(
    private readonly controls: SilenceControls,
    adminToken: string | undefined,
    private readonly log: SilenceApiLog = () => {},
  ) {
    this.check = adminCheck(adminToken);
  }

  /** Throws 401/403 unless the Authorization header carries the admin token. Call before reading a body. */
  authorize(authorization: string | undefined): void {
    const result = this.check(authorization);
    if (result.ok) return;
    throw new ApiError(
      result.status,
      result.message,
      undefined,
      result.status === 401 ? { 'WWW-Authenticate': 'Bearer realm="batchwatch"' } : {},
    );
  }

  async alerts(): Promise<ApiAnswer> {
    return { status: 200, body: { alerts: (await this.controls.alerts()).map(alertJson) } };
  }

  async silences(): Promise<ApiAnswer> {
    const [silences, windows] = [await this.controls.silences(), this.controls.windows()];
    return { status: 200, body: { silences: silences.map(silenceJson), maintenance: windows.map(windowJson) } };
  }

  /** POST /api/v1/silences (authorized): 201 with the new silence. */
  async createSilence(body: unknown): Promise<ApiAnswer> {
    const silence = await this.withRequestErrors(() => this.controls.addSilence(body));
    this.log('info', 'silence added through the API', {
      silence: silence.id,
      author: silence.author,
      startsAt: silence.startsAt,
      endsAt: silence.endsAt,
    });
    return { status: 201, body: silenceJson(silence) };
  }

  /** DELETE /api/v1/silences/{id} (authorized): 200 with the silence as it ended; 404 for an unknown id. */
  async expireSilence(id: string, by: string | undefined): Promise<ApiAnswer> {
    try {
      const silence = await this.withRequestErrors(() => this.controls.expireSilence(id, by, 'api'));
      this.log('info', 'silence expired through the API', { silence: silence.id, by: silence.expiredBy });
      return { status: 200, body: silenceJson(silence) };
    } catch (error) {
      if (error instanceof SilenceNotFoundError) throw new ApiError(404, error.message, 'id');
      throw error;
    }
  }

  /** POST /api/v1/acks (authorized): 201 with the acknowledged alerts; 404 when the task has no active alert. */
  async acknowledge(body: unknown): Promise<ApiAnswer> {
    const acked = await this.withRequestErrors(() => this.controls.acknowledge(body));
    this.log('info', 'alerts acknowledged through the API', { episodes: acked.map((a) => a.episode) });
    return { status: 201, body: { acknowledged: acked.map(ackJson) } };
  }

  /** A request that does not validate is 400 naming the field; an acknowledgement for a task without an active alert is 404. */
  private async withRequestErrors<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (!(error instanceof RequestError)) throw error;
      throw new ApiError(error instanceof NoActiveAlertError ? 404 : 400, error.message, error.field || undefined);
    }
  }
}
