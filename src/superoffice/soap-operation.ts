import { createClientAsync, type Client, type IHttpClient } from 'soap';
import { ClientSetupError, SuperOfficeError, TransportError } from './errors.ts';
import { postXml, type RawHttpResponse } from './http-transport.ts';

/** Per-call state handed to the transport through node-soap's per-call options. */
interface Exchange {
  timeoutMs: number;
  response?: RawHttpResponse;
  error?: unknown;
}

const EMPTY_ENVELOPE = '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>';

type Callback = (error: unknown, response?: unknown, body?: unknown) => void;

function isExchange(value: unknown): value is Exchange {
  return typeof value === 'object' && value !== null && typeof (value as Exchange).timeoutMs === 'number';
}

/**
 * node-soap's extension point for the HTTP layer: node-soap builds the envelope and SOAPAction from the
 * WSDL, this sends it with our own timeout and error typing, and keeps the raw answer for our reader.
 */
const transport = {
  request(url: string, data: unknown, callback: Callback, headers?: Record<string, unknown>, options?: unknown): void {
    const exchange = isExchange(options) ? options : { timeoutMs: 30_000 };
    const stringHeaders: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers ?? {})) if (typeof v === 'string') stringHeaders[k] = v;
    postXml(url, String(data), stringHeaders, exchange.timeoutMs).then(
      (response) => {
        exchange.response = response;
        // Our own reader judges the raw answer; node-soap gets an empty envelope so it does not parse
        // (possibly megabytes of) XML a second time only for us to discard its result.
        callback(null, { status: response.status, headers: { 'content-type': 'text/xml' }, data: EMPTY_ENVELOPE }, EMPTY_ENVELOPE);
      },
      (error: unknown) => {
        exchange.error = error;
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
  async call(args: object, soapHeaders: readonly string[], timeoutMs: number): Promise<RawHttpResponse> {
    const client = await this.getClient();
    const method: unknown = client[`${this.operation}Async`];
    if (typeof method !== 'function') {
      throw new ClientSetupError(`WSDL ${this.wsdlPath} does not describe operation ${this.operation}`);
    }
    // Headers are client-wide state in node-soap; the envelope is built synchronously inside the call
    // below, so setting them right before it is safe with concurrent calls.
    client.clearSoapHeaders();
    for (const h of soapHeaders) client.addSoapHeader(h);
    const exchange: Exchange = { timeoutMs };
    try {
      await (method as AsyncMethod).call(client, args, exchange);
    } catch (err) {
      // node-soap rejects for anything it cannot map to a result (faults, odd bodies, non-Error objects);
      // our own reader judges the raw answer below.
      if (!exchange.response && !exchange.error) {
        const why = err instanceof Error ? err.message : 'request could not be built';
        throw new ClientSetupError(`${this.operation}: ${why}`);
      }
    }
    if (exchange.error !== undefined) {
      if (exchange.error instanceof SuperOfficeError) throw exchange.error;
      throw new TransportError('network', `${this.operation}: ${String(exchange.error)}`);
    }
    if (!exchange.response) throw new TransportError('network', `${this.operation}: no response`);
    return exchange.response;
  }
}
