// The client of the live feed `GET /api/v1/ws`: authenticates with subprotocols (the token never
// goes into the URL), subscribes once the server is ready, renews the token on close code 4401
// and reconnects with exponential backoff and jitter otherwise. Framework-free; one object per
// connection, ended with stop().

import { isAlert } from '../api/guards';
import type { Alert } from '../api/types';

/** The subprotocol the server selects; the second one offered carries the access token. */
export const LIVE_PROTOCOL = 'factoryops.v1';
export const LIVE_PATH = '/api/v1/ws';

/** Close code of an invalid or expired access token. */
export const CLOSE_UNAUTHORIZED = 4401;

export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_MAX_MS = 30_000;
/** After this many failed attempts in a row the feed counts as offline, not reconnecting. */
export const OFFLINE_AFTER_FAILURES = 3;
/** A connection that stayed up this long resets the backoff when it drops. */
export const STABLE_AFTER_MS = 10_000;
export const PING_INTERVAL_MS = 25_000;
/** Time from opening the socket to the server's `ready`. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

export type LiveConnectionState = 'connecting' | 'live' | 'reconnecting' | 'offline' | 'stopped';

export interface LiveSubscription {
  /** `'*'` for every machine of the factory, or a list of machine ids. */
  devices: '*' | string[];
  /** Parameter keys; every parameter when left out. */
  params?: string[];
}

export interface LiveReading {
  type: 'reading';
  device_id: string;
  /** Epoch milliseconds. */
  ts: number;
  values: Record<string, number>;
}

export interface LiveStatus {
  type: 'status';
  device_id: string;
  online: boolean;
  /** RFC 3339. */
  last_seen_at: string;
}

export const alertEvents = ['opened', 'escalated', 'acknowledged', 'resolved'] as const;

/** An alert of the factory changed; sent whatever the subscription. */
export interface LiveAlert {
  type: 'alert';
  event: (typeof alertEvents)[number];
  alert: Alert;
}

/** What the feed passes on to its user. */
export type LiveEvent = LiveReading | LiveStatus | LiveAlert;

export interface LiveServerError {
  code: string;
  message: string;
}

/** The part of the browser's WebSocket this module uses, so tests can hand in a fake. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketFactory = new (url: string, protocols: string[]) => WebSocketLike;

export interface LiveSocketOptions {
  /** `ws(s)://host/api/v1/ws`; see liveUrl(). */
  url: string;
  /** Null subscribes to no readings: only the factory's alert messages arrive. */
  subscription: LiveSubscription | null;
  /** The current access token, renewed first if it is about to expire; null without a session. */
  getToken: () => Promise<string | null>;
  /**
   * A token to use instead of `rejected`, which the server refused with 4401; null when there
   * is no session any more. Rejects when the renewal failed.
   */
  refreshToken: (rejected: string) => Promise<string | null>;
  onEvent: (event: LiveEvent) => void;
  onStateChange?: (state: LiveConnectionState) => void;
  onServerError?: (error: LiveServerError) => void;
  /** Defaults to the global WebSocket. */
  WebSocket?: WebSocketFactory;
  /** Source of jitter in [0, 1); Math.random by default. */
  random?: () => number;
  /** Where `online` events come from; `window` by default. */
  events?: Pick<EventTarget, 'addEventListener' | 'removeEventListener'>;
}

const OPEN = 1;

/** `ws://` or `wss://` of the page's own origin. */
export function liveUrl(location: Pick<Location, 'protocol' | 'host'> = window.location): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${LIVE_PATH}`;
}

/**
 * The wait before reconnect attempt `failures` (1 for the first): a ceiling doubling from 2 s
 * up to 30 s, and a random point in its upper half, so a server restart is not met by every
 * browser at the same instant. The first wait is 1–2 s, the longest 15–30 s.
 */
export function backoffDelay(failures: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, 2 * BACKOFF_BASE_MS * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads a server message; anything of an unknown type or shape is null (and ignored). */
export function parseServerMessage(
  data: unknown,
): LiveEvent | { type: 'ready' } | { type: 'pong' } | ({ type: 'error' } & LiveServerError) | null {
  if (typeof data !== 'string') return null;
  let message: unknown;
  try {
    message = JSON.parse(data);
  } catch {
    return null;
  }
  if (!isRecord(message)) return null;
  switch (message.type) {
    case 'ready':
      return { type: 'ready' };
    case 'pong':
      return { type: 'pong' };
    case 'error':
      return {
        type: 'error',
        code: typeof message.code === 'string' ? message.code : 'error',
        message: typeof message.message === 'string' ? message.message : '',
      };
    case 'reading': {
      const { device_id, ts, values } = message;
      if (typeof device_id !== 'string' || typeof ts !== 'number' || !Number.isFinite(ts)) {
        return null;
      }
      if (!isRecord(values)) return null;
      const numbers: Record<string, number> = {};
      for (const [key, value] of Object.entries(values)) {
        if (typeof value === 'number' && Number.isFinite(value)) numbers[key] = value;
      }
      return { type: 'reading', device_id, ts, values: numbers };
    }
    case 'status': {
      const { device_id, online, last_seen_at } = message;
      if (typeof device_id !== 'string' || typeof online !== 'boolean') return null;
      if (typeof last_seen_at !== 'string') return null;
      return { type: 'status', device_id, online, last_seen_at };
    }
    case 'alert': {
      const { event, alert } = message;
      if (!(alertEvents as readonly unknown[]).includes(event) || !isAlert(alert)) return null;
      return { type: 'alert', event: event as LiveAlert['event'], alert };
    }
    default:
      return null;
  }
}

/**
 * One live connection and its reconnections. start() opens it; stop() closes it for good.
 * Not thread-safe in any sense that matters in a browser: all callbacks run on the page's
 * event loop.
 */
export class LiveSocket {
  private readonly options: LiveSocketOptions;
  private readonly random: () => number;
  private socket: WebSocketLike | null = null;
  private state: LiveConnectionState = 'stopped';
  private started = false;
  private stopped = false;
  /** Attempts since the last stable connection. */
  private failures = 0;
  private liveSince: number | null = null;
  /** The token of the socket being opened, to tell the refresher which one was refused. */
  private token: string | null = null;
  /** Set after a 4401 renewal until the next `ready`: a second 4401 then waits like any failure. */
  private renewedToken = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private handshakeTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private answeredSincePing = true;

  constructor(options: LiveSocketOptions) {
    this.options = options;
    this.random = options.random ?? Math.random;
  }

  get connectionState(): LiveConnectionState {
    return this.state;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.events()?.addEventListener('online', this.onBrowserOnline);
    this.setState('connecting');
    void this.connect();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.events()?.removeEventListener('online', this.onBrowserOnline);
    this.clearTimers();
    this.clearRetry();
    this.drop(1000, 'page closed');
    this.setState('stopped');
  }

  private events() {
    if (this.options.events) return this.options.events;
    return typeof window === 'undefined' ? undefined : window;
  }

  /** The network came back: do not sit out the rest of a long backoff. */
  private readonly onBrowserOnline = () => {
    if (this.stopped || this.retryTimer === null) return;
    this.clearRetry();
    this.failures = 0;
    void this.connect();
  };

  private setState(next: LiveConnectionState) {
    if (this.state === next) return;
    this.state = next;
    this.options.onStateChange?.(next);
  }

  private async connect(token?: string): Promise<void> {
    let use: string | null;
    try {
      use = token ?? (await this.options.getToken());
    } catch {
      if (!this.stopped) this.scheduleReconnect();
      return;
    }
    if (this.stopped) return;
    if (use === null) {
      // Signed out: nothing to reconnect as. Whoever signs in next starts a new feed.
      this.setState('offline');
      return;
    }
    const Factory =
      this.options.WebSocket ?? (globalThis.WebSocket as unknown as WebSocketFactory | undefined);
    if (!Factory) {
      this.setState('offline');
      return;
    }
    this.token = use;
    let socket: WebSocketLike;
    try {
      socket = new Factory(this.options.url, [LIVE_PROTOCOL, `bearer.${use}`]);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    this.answeredSincePing = true;
    socket.onmessage = (event) => this.onMessage(socket, event.data);
    socket.onclose = (event) => this.onClose(socket, event.code);
    socket.onerror = () => {
      // A close event follows every error; that is where the reconnect is decided.
    };
    this.handshakeTimer = setTimeout(
      () => this.abandon(socket, 'no ready from the server'),
      HANDSHAKE_TIMEOUT_MS,
    );
  }

  private onMessage(socket: WebSocketLike, data: unknown) {
    if (socket !== this.socket) return;
    this.answeredSincePing = true;
    const message = parseServerMessage(data);
    if (!message) return;
    switch (message.type) {
      case 'ready':
        this.onReady(socket);
        break;
      case 'pong':
        break;
      case 'error':
        this.options.onServerError?.({ code: message.code, message: message.message });
        break;
      default:
        this.options.onEvent(message);
    }
  }

  private onReady(socket: WebSocketLike) {
    if (this.handshakeTimer !== null) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
    this.renewedToken = false;
    this.liveSince = Date.now();
    const subscription = this.options.subscription;
    if (subscription) {
      const { devices, params } = subscription;
      socket.send(
        JSON.stringify(
          params ? { type: 'subscribe', devices, params } : { type: 'subscribe', devices },
        ),
      );
    }
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => this.ping(socket), PING_INTERVAL_MS);
    this.setState('live');
  }

  /**
   * Keeps idle proxies from closing a quiet connection and finds a dead one: if nothing at all
   * arrived since the previous ping, the connection is given up (a dead TCP connection may
   * take minutes to report its close).
   */
  private ping(socket: WebSocketLike) {
    if (!this.answeredSincePing) {
      this.abandon(socket, 'no answer to ping');
      return;
    }
    this.answeredSincePing = false;
    if (socket.readyState === OPEN) socket.send(JSON.stringify({ type: 'ping' }));
  }

  private onClose(socket: WebSocketLike, code: number) {
    if (socket !== this.socket) return;
    this.socket = null;
    this.clearTimers();
    this.noteStability();
    if (this.stopped) return;
    if (code === CLOSE_UNAUTHORIZED && !this.renewedToken) {
      void this.renew();
      return;
    }
    this.scheduleReconnect();
  }

  /** The server refused the token: get a fresh one and reconnect at once, once. */
  private async renew() {
    this.renewedToken = true;
    this.setState('reconnecting');
    const rejected = this.token ?? '';
    let fresh: string | null;
    try {
      fresh = await this.options.refreshToken(rejected);
    } catch {
      if (!this.stopped) this.scheduleReconnect();
      return;
    }
    if (this.stopped) return;
    if (fresh === null) {
      this.setState('offline');
      return;
    }
    void this.connect(fresh);
  }

  /** Gives up a connection that does not answer, without waiting for its close event. */
  private abandon(socket: WebSocketLike, reason: string) {
    if (socket !== this.socket) return;
    this.clearTimers();
    this.noteStability();
    this.drop(4000, reason);
    if (!this.stopped) this.scheduleReconnect();
  }

  private noteStability() {
    if (this.liveSince !== null && Date.now() - this.liveSince >= STABLE_AFTER_MS) {
      this.failures = 0;
    }
    this.liveSince = null;
  }

  private scheduleReconnect() {
    this.clearRetry();
    this.failures += 1;
    this.setState(this.failures >= OFFLINE_AFTER_FAILURES ? 'offline' : 'reconnecting');
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = null;
        void this.connect();
      },
      backoffDelay(this.failures, this.random),
    );
  }

  private drop(code: number, reason: string) {
    const socket = this.socket;
    this.socket = null;
    if (!socket) return;
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    socket.onerror = null;
    try {
      socket.close(code, reason);
    } catch {
      // Closing a socket that never opened may throw in some browsers; it is gone either way.
    }
  }

  private clearTimers() {
    if (this.handshakeTimer !== null) clearTimeout(this.handshakeTimer);
    if (this.pingTimer !== null) clearInterval(this.pingTimer);
    this.handshakeTimer = null;
    this.pingTimer = null;
  }

  private clearRetry() {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }
}
