/**
 * Sentinel failovers without lost writes: while Sentinel moves the master, no connection of this process
 * writes to the old one.
 *
 * Replication is asynchronous and Sentinel does not pause the old master: what is written to it between the
 * replica's promotion and the moment a client moves over is lost (measured: ~0.7 s of writes with ioredis's
 * own failover detector, ~10 s without), and a lost notification-log write means a mail sent twice. The fence
 * listens to every Sentinel's events; when a failover of our master starts (+try-failover and the steps after
 * it) it closes every connection and holds reconnects until the Sentinels announce the new master
 * (+switch-master), the failover is aborted, or `maxHoldMs` passed. Commands wait in the clients' queues
 * meanwhile (the fail-fast probe fails at once, so /readyz says 503).
 */
import { Redis, SentinelConnector, type RedisOptions } from 'ioredis';
import type { RedisSentinelConfig } from '../config/types.ts';
import type { ConnectionLog } from './connections.ts';
import { formatHostPort } from './url.ts';

/** Published by the Sentinel leading a failover, from its start to the promotion. */
const FAILOVER_STEPS = new Set([
  '+try-failover',
  '+elected-leader',
  '+failover-state-select-slave',
  '+selected-slave',
  '+failover-state-send-slaveof-noone',
  '+failover-state-wait-promotion',
  '+promoted-slave',
  '+failover-state-reconf-slaves',
]);
/** The failover is over: a new master (every Sentinel publishes +switch-master), or none after all. */
const FAILOVER_ENDS = new Set(['+switch-master', '+failover-end', '+failover-end-for-timeout']);
const FAILOVER_ABORT = /^-failover-abort/;

/** Longest a failover holds connections; Sentinel's own failover-timeout is minutes, far too long to wait. */
export const DEFAULT_MAX_HOLD_MS = 20_000;

/** The master an event is about: "master NAME ip port", "slave a:p ip port @ NAME ip port", or "+switch-master NAME ...". */
export function masterNameOf(channel: string, message: string): string | undefined {
  const words = message.trim().split(/\s+/);
  if (channel === '+switch-master') return words[0];
  const at = words.indexOf('@');
  if (at >= 0) return words[at + 1];
  return words[0] === 'master' ? words[1] : undefined;
}

export interface SentinelFenceOptions {
  sentinel: RedisSentinelConfig;
  /** TLS options for the Sentinel connections (as the clients use them). */
  tls?: RedisOptions['tls'];
  log?: ConnectionLog;
  maxHoldMs?: number;
}

/** A connector that waits for the fence before asking the Sentinels for the master. */
interface FencedConnector {
  /** Closes the current connection so the client reconnects (through the fence); never ends the client. */
  refresh(): void;
}

export class SentinelFence {
  private readonly name: string;
  /** Set by the first client created with a logger (the daemon's own connections). */
  log: ConnectionLog | undefined;
  private readonly maxHoldMs: number;
  private readonly subscribers: Redis[] = [];
  private readonly connectors = new Set<FencedConnector>();
  private holding: { since: number; timer: NodeJS.Timeout; waiters: (() => void)[] } | null = null;
  /** The master named by the last +switch-master (every Sentinel announces it; act on the first). */
  private lastSwitchTo: string | undefined;
  private closed = false;

  constructor(private readonly options: SentinelFenceOptions) {
    this.name = options.sentinel.name;
    this.log = options.log;
    this.maxHoldMs = options.maxHoldMs ?? DEFAULT_MAX_HOLD_MS;
  }

  /** True while a failover holds the connections. */
  get failoverInProgress(): boolean {
    return this.holding !== null;
  }

  /** Resolves at once, or when the failover in progress is over. */
  opened(): Promise<void> {
    if (!this.holding) return Promise.resolve();
    const holding = this.holding;
    return new Promise((resolve) => holding.waiters.push(resolve));
  }

  register(connector: FencedConnector): void {
    this.connectors.add(connector);
    this.listen();
  }

  /** Stops listening and lets every held reconnect go (their clients are being closed too). */
  close(): void {
    this.closed = true;
    for (const subscriber of this.subscribers.splice(0)) subscriber.disconnect();
    this.release();
    this.connectors.clear();
  }

  /** One subscriber per Sentinel, opened with the first client. */
  private listen(): void {
    if (this.subscribers.length > 0 || this.closed) return;
    for (const node of this.options.sentinel.nodes) {
      const subscriber = new Redis({
        host: node.host,
        port: node.port,
        ...(this.options.sentinel.sentinelPassword ? { password: this.options.sentinel.sentinelPassword } : {}),
        ...(this.options.tls ? { tls: this.options.tls } : {}),
        connectionName: 'batchwatch:sentinel-events',
        retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
        maxRetriesPerRequest: null,
      });
      subscriber.on('error', (error: Error) =>
        this.log?.debug({ sentinel: formatHostPort(node), err: error.message }, 'Sentinel event subscription: connection error'),
      );
      subscriber.on('pmessage', (_pattern: string, channel: string, message: string) => this.onEvent(channel, message));
      subscriber.psubscribe('*').catch(() => undefined);
      this.subscribers.push(subscriber);
    }
  }

  /** One Sentinel event (the subscribers feed them; tests may too). */
  onEvent(channel: string, message: string): void {
    if (this.closed || masterNameOf(channel, message) !== this.name) return;
    if (FAILOVER_STEPS.has(channel)) this.hold(channel);
    else if (FAILOVER_ENDS.has(channel) || FAILOVER_ABORT.test(channel)) this.end(channel, message);
  }

  private hold(event: string): void {
    if (this.holding) return;
    const timer = setTimeout(() => {
      this.log?.warn(
        { master: this.name, heldMs: this.maxHoldMs },
        'Redis Sentinel failover not announced as finished in time; reconnecting to whichever master the Sentinels name now',
      );
      this.release();
    }, this.maxHoldMs);
    timer.unref();
    this.holding = { since: Date.now(), timer, waiters: [] };
    this.log?.warn(
      { master: this.name, event },
      'Redis Sentinel failover started: Redis commands are held until the new master is announced (nothing is written to the old master)',
    );
    for (const connector of this.connectors) connector.refresh();
  }

  private end(event: string, message: string): void {
    const since = this.holding?.since;
    if (event === '+switch-master') {
      const words = message.trim().split(/\s+/);
      const newMaster = words.length >= 5 ? `${words[3]}:${words[4]}` : undefined;
      if (newMaster === this.lastSwitchTo && !this.holding) return;
      this.lastSwitchTo = newMaster;
      // Connections made outside a fenced failover (one we did not hear start) must move over too.
      if (!this.holding) for (const connector of this.connectors) connector.refresh();
      if (since !== undefined)
        this.log?.info(
          { master: this.name, newMaster, tookMs: Date.now() - since },
          'Redis Sentinel failover finished; reconnecting to the new master',
        );
      else this.log?.info({ master: this.name, newMaster }, 'Redis Sentinel switched master; reconnecting to it');
    } else if (since !== undefined && event !== '+failover-end') {
      this.log?.warn({ master: this.name, event }, 'Redis Sentinel failover ended without a new master; reconnecting');
    }
    // +failover-end comes just before +switch-master from the same Sentinel: wait for the switch itself.
    if (event !== '+failover-end') this.release();
  }

  private release(): void {
    const holding = this.holding;
    if (!holding) return;
    this.holding = null;
    clearTimeout(holding.timer);
    for (const wake of holding.waiters) wake();
  }
}

const CONNECTION_CLOSED = 'Connection is closed.';

/**
 * A SentinelConnector class whose connect() waits for `fence`, and that can be refreshed (made to reconnect)
 * safely: ioredis ends a client for good when its connector is disconnected while connecting (which its own
 * failover detector does during a failover); a refresh retries the connect instead.
 */
export function fencedSentinelConnector(fence: SentinelFence): new (options: unknown) => SentinelConnector {
  return class FencedSentinelConnector extends SentinelConnector implements FencedConnector {
    private refreshing = false;
    private ownerClosed = false;
    /** Ends the wait for the fence early: the client is being closed. */
    private stopWaiting: (() => void) | null = null;

    /** ioredis passes the client's options, which carry the Sentinel settings. */
    constructor(options: unknown) {
      super(options as RedisOptions);
      fence.register(this);
    }

    refresh(): void {
      this.refreshing = true;
      super.disconnect();
    }

    override disconnect(): void {
      this.ownerClosed = true;
      this.stopWaiting?.();
      super.disconnect();
    }

    override async connect(...args: Parameters<SentinelConnector['connect']>): ReturnType<SentinelConnector['connect']> {
      this.ownerClosed = false;
      for (;;) {
        await new Promise<void>((resolve) => {
          this.stopWaiting = resolve;
          fence.opened().then(resolve, resolve);
        });
        this.stopWaiting = null;
        if (this.ownerClosed) throw new Error(CONNECTION_CLOSED);
        this.refreshing = false;
        try {
          return await super.connect(...args);
        } catch (error) {
          if (!this.refreshing || this.ownerClosed) throw error;
        }
      }
    }
  };
}
