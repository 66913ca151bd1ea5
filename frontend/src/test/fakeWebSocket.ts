import type { WebSocketLike } from '../live/liveSocket';

/**
 * A WebSocket stand-in for tests: records what the client sends and lets the test act as the
 * server. Every instance is kept in `FakeWebSocket.instances`, newest last.
 */
export class FakeWebSocket implements WebSocketLike {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  static instances: FakeWebSocket[] = [];

  /** The newest socket; fails the test when none was opened. */
  static latest(): FakeWebSocket {
    const socket = FakeWebSocket.instances.at(-1);
    if (!socket) throw new Error('no WebSocket was opened');
    return socket;
  }

  static reset() {
    FakeWebSocket.instances = [];
  }

  readonly url: string;
  readonly protocols: string[];
  readyState = FakeWebSocket.CONNECTING;
  protocol = '';
  /** Raw frames the client sent. */
  readonly sent: string[] = [];
  /** Set when the client closed this socket. */
  closedWith: { code?: number; reason?: string } | null = null;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(url: string, protocols: string | string[] = []) {
    this.url = url;
    this.protocols = typeof protocols === 'string' ? [protocols] : [...protocols];
    FakeWebSocket.instances.push(this);
  }

  send(data: string) {
    if (this.readyState !== FakeWebSocket.OPEN) throw new Error('send() on a socket not open');
    this.sent.push(data);
  }

  close(code?: number, reason?: string) {
    this.closedWith = { code, reason };
    this.readyState = FakeWebSocket.CLOSED;
  }

  /** The messages the client sent, parsed. */
  messages(): unknown[] {
    return this.sent.map((frame) => JSON.parse(frame) as unknown);
  }

  /** The server accepts the connection and selects `protocol`. */
  accept(protocol = 'factoryops.v1') {
    this.protocol = protocol;
    this.readyState = FakeWebSocket.OPEN;
    this.onopen?.({});
  }

  /** The server sends one JSON message. */
  receive(message: unknown) {
    this.onmessage?.({ data: typeof message === 'string' ? message : JSON.stringify(message) });
  }

  /** Opens and says ready, as the server does for a valid token. */
  ready() {
    this.accept();
    this.receive({ type: 'ready', factory_id: 'plant-01', user_id: 1 });
  }

  /** The server (or the network) closes the connection. */
  serverClose(code = 1006, reason = '') {
    this.readyState = FakeWebSocket.CLOSED;
    this.onclose?.({ code, reason });
  }
}
