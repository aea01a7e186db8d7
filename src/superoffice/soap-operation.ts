/** One SOAP operation through node-soap, with our transport doing the HTTP (timeout, size limit, streaming reader). */
import { createClientAsync, type Client, type IHttpClient } from 'soap';
import { ClientSetupError, TransportError } from './errors.ts';
import { exchange, textReader, type BodyReader, type ConnectionPool, type RawHttpResponse, type ResponseHead } from './http-transport.ts';

/** Per-call state handed to the transport through node-soap's per-call options. */
interface Exchange {
  timeoutMs: number;
  maxResponseBytes: number;
  pool: ConnectionPool;
  makeReader: (head: ResponseHead) => BodyReader<unknown>;
  /** Set once the reader finished the body (it resolved). */
  done?: boolean;
  result?: unknown;
  error?: unknown;
}

const EMPTY_ENVELOPE = '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>';

type Callback = (error: unknown, response?: unknown, body?: unknown) => void;

function isExchange(value: unknown): value is Exchange {
  return typeof value === 'object' && value !== null && typeof (value as Exchange).makeReader === 'function';
}

/**
 * node-soap's extension point for the HTTP layer: node-soap builds the envelope and SOAPAction from the
 * WSDL, this sends it with our own limits and error typing, and hands the body to our own reader as it arrives.
 */
const transport = {
  request(url: string, data: unknown, callback: Callback, headers?: Record<string, unknown>, options?: unknown): void {
    if (!isExchange(options)) {
      callback(new ClientSetupError('SOAP call without batchwatch transport options'));
      return;
    }
    const call = options;
    const stringHeaders: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers ?? {})) if (typeof v === 'string') stringHeaders[k] = v;
    const limits = { timeoutMs: call.timeoutMs, maxResponseBytes: call.maxResponseBytes };
    exchange(url, String(data), stringHeaders, limits, call.pool, call.makeReader).then(
      (result) => {
        call.done = true;
        call.result = result;
        // Our own reader has judged the answer; node-soap gets an empty envelope so it does not parse
        // (possibly megabytes of) XML a second time only for us to discard its result.
        callback(null, { status: 200, headers: { 'content-type': 'text/xml' }, data: EMPTY_ENVELOPE }, EMPTY_ENVELOPE);
      },
      (error: unknown) => {
        call.error = error;
        callback(error);
      },
    );
  },
};

type AsyncMethod = (args: object, options: Exchange) => Promise<unknown>;

/**
 * One operation of one SOAP service, described by a WSDL file and sent to a fixed endpoint.
 * The node-soap client is created on first use (and again after a failed attempt).
 */
export class SoapOperation {
  private client: Promise<Client> | null = null;

  constructor(
    private readonly wsdlPath: string,
    private readonly endpoint: string,
    private readonly operation: string,
    private readonly pool: ConnectionPool,
    private readonly maxResponseBytes: number,
  ) {}

  private getClient(): Promise<Client> {
    this.client ??= createClientAsync(
      this.wsdlPath,
      {
        disableCache: true,
        endpoint: this.endpoint,
        // The structural subset node-soap actually calls; its declared return type is axios-specific.
        httpClient: transport as unknown as IHttpClient,
      },
      this.endpoint,
    ).catch((err: unknown) => {
      this.client = null;
      const why = err instanceof Error ? err.message : String(err);
      throw new ClientSetupError(`cannot load WSDL ${this.wsdlPath}: ${why}`);
    });
    return this.client;
  }

  /**
   * Sends the operation with `args` as body and the given (already serialized) SOAP header elements.
   * Resolves with the raw HTTP answer whatever its status or content; rejects with SuperOfficeError.
   */
  call(args: object, soapHeaders: readonly string[], timeoutMs: number): Promise<RawHttpResponse> {
    return this.stream(args, soapHeaders, timeoutMs, textReader);
  }

  /**
   * Sends the operation and hands the answer's body, chunk by chunk as it arrives, to the reader made for its
   * status line; resolves with what the reader's end() returns. `timeoutMs` bounds the whole call, reading and
   * parsing included. Rejects with SuperOfficeError (or what the reader threw).
   */
  async stream<T>(
    args: object,
    soapHeaders: readonly string[],
    timeoutMs: number,
    makeReader: (head: ResponseHead) => BodyReader<T>,
  ): Promise<T> {
    const client = await this.getClient();
    const method: unknown = client[`${this.operation}Async`];
    if (typeof method !== 'function') {
      throw new ClientSetupError(`WSDL ${this.wsdlPath} does not describe operation ${this.operation}`);
    }
    // Headers are client-wide state in node-soap; the envelope is built synchronously inside the call
    // below, so setting them right before it is safe with concurrent calls.
    client.clearSoapHeaders();
    for (const h of soapHeaders) client.addSoapHeader(h);
    const call: Exchange = { timeoutMs, maxResponseBytes: this.maxResponseBytes, pool: this.pool, makeReader };
    try {
      await (method as AsyncMethod).call(client, args, call);
    } catch (err) {
      // node-soap rejects for anything it cannot map to a result (faults, odd bodies, non-Error objects);
      // what counts is what our transport recorded.
      if (!call.done && call.error === undefined) {
        const why = err instanceof Error ? err.message : 'request could not be built';
        throw new ClientSetupError(`${this.operation}: ${why}`);
      }
    }
    // SuperOfficeErrors, and anything else a reader threw (the client reports those as internal errors).
    if (call.error !== undefined) throw call.error;
    if (!call.done) throw new TransportError('network', `${this.operation}: no response`);
    return call.result as T;
  }
}
