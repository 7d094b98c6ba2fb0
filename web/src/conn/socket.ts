/**
 * The driver: runs the pure state machine against a real WebSocket, real
 * timers and the browser's online/visibility events. It holds no rules of its
 * own beyond "carry out the effects", so what it does is what machine.ts says.
 */

import { parseServerFrame, ProtocolError } from '../protocol';
import type { ClientFrame, Message, SendMessageFrame, ServerFrame } from '../protocol';
import { initialState, step } from './machine';
import type { ConnEvent, ConnState, Effect, Env, HttpOutcome, TimerName } from './machine';

export interface ConnectionOptions {
  /** Builds the socket URL with a fresh token; called before every attempt. */
  url: () => Promise<string>;
  room: boolean;
  lastSeq?: number;
  lastChange?: number;
  /** POST a message too big for one frame; resolves with the ack or the refusal */
  httpSend?: (frame: SendMessageFrame) => Promise<HttpOutcome>;
  onFrame: (frame: ServerFrame) => void;
  onState?: (state: ConnState) => void;
  /**
   * Called after an attempt that never opened. A browser hides the handshake's
   * HTTP status (401/403), so this asks the API whether retrying can succeed;
   * return a reason to stop for good, or null to keep trying.
   */
  probeFailure?: () => Promise<string | null>;
  env?: Env;
}

const defaultEnv: Env = { random: Math.random, now: Date.now };

export class Connection {
  private state: ConnState;
  private socket: WebSocket | null = null;
  private timers = new Map<TimerName, ReturnType<typeof setTimeout>>();
  private readonly env: Env;
  private opened = false;
  private disposed = false;
  private readonly wake = (): void => this.dispatch({ type: 'wake' });
  private readonly onOnline = (): void => this.dispatch({ type: 'network', online: true });
  private readonly onOffline = (): void => this.dispatch({ type: 'network', online: false });
  private readonly onVisible = (): void => {
    if (document.visibilityState === 'visible') this.wake();
  };

  constructor(private readonly opts: ConnectionOptions) {
    this.env = opts.env ?? defaultEnv;
    this.state = initialState({ room: opts.room, lastSeq: opts.lastSeq, lastChange: opts.lastChange });
  }

  get current(): ConnState {
    return this.state;
  }

  start(): void {
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
    document.addEventListener('visibilitychange', this.onVisible);
    this.dispatch({ type: 'start' });
  }

  stop(): void {
    if (this.disposed) return;
    this.dispatch({ type: 'stop' });
    this.disposed = true;
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    document.removeEventListener('visibilitychange', this.onVisible);
  }

  send(frame: SendMessageFrame): void {
    this.dispatch({ type: 'send', frame });
  }

  /** Typing, edits, deletes, reactions: sent now or not at all. Returns whether sent. */
  control(frame: ClientFrame): boolean {
    const wasOpen = this.state.status === 'open';
    this.dispatch({ type: 'control', frame });
    return wasOpen;
  }

  retryMessage(client_msg_id: string): void {
    this.dispatch({ type: 'retry_message', client_msg_id });
  }

  discardMessage(client_msg_id: string): void {
    this.dispatch({ type: 'discard_message', client_msg_id });
  }

  noteHistory(messages: Message[]): void {
    this.dispatch({ type: 'history', messages });
  }

  /** Drop the socket as a network failure would (used by the banner's "reconnect now" and tests). */
  dropSocket(): void {
    const ws = this.socket;
    if (!ws) return;
    this.detach(ws);
    try {
      ws.close(4001, 'dropped');
    } catch {
      /* already closing */
    }
    this.dispatch({ type: 'socket_closed', code: 1006 });
  }

  reconnectNow(): void {
    this.wake();
  }

  private dispatch(event: ConnEvent): void {
    if (this.disposed) return;
    const { state, effects } = step(this.state, event, this.env);
    this.state = state;
    for (const effect of effects) this.run(effect);
    this.opts.onState?.(this.state);
  }

  private run(effect: Effect): void {
    switch (effect.type) {
      case 'open_socket':
        void this.open();
        return;
      case 'close_socket':
        if (this.socket) {
          const ws = this.socket;
          this.detach(ws);
          try {
            ws.close(effect.code, effect.reason);
          } catch {
            /* already closed */
          }
        }
        return;
      case 'send_frame':
        if (this.socket && this.socket.readyState === WebSocket.OPEN) {
          this.socket.send(JSON.stringify(effect.frame));
        } else if (this.socket) {
          // The socket died without telling us yet: a failed send is that news.
          queueMicrotask(() => this.dropSocket());
        }
        return;
      case 'http_send': {
        const frame = effect.frame;
        const post = this.opts.httpSend;
        if (!post) {
          this.dispatch({
            type: 'http_result',
            client_msg_id: frame.client_msg_id,
            outcome: { ok: false, code: 'PAYLOAD_TOO_LARGE', message: 'too large for one frame' },
          });
          return;
        }
        void post(frame)
          .catch((): HttpOutcome => ({ ok: false, network: true }))
          .then((outcome) => this.dispatch({ type: 'http_result', client_msg_id: frame.client_msg_id, outcome }));
        return;
      }
      case 'set_timer': {
        this.clearTimer(effect.name);
        const name = effect.name;
        this.timers.set(
          name,
          setTimeout(() => {
            this.timers.delete(name);
            this.dispatch({ type: 'timer', name });
          }, effect.ms),
        );
        return;
      }
      case 'clear_timer':
        this.clearTimer(effect.name);
        return;
      case 'deliver':
        this.opts.onFrame(effect.frame);
        return;
      default: {
        const never: never = effect;
        throw new Error(`unhandled effect ${(never as { type: string }).type}`);
      }
    }
  }

  private clearTimer(name: TimerName): void {
    const t = this.timers.get(name);
    if (t !== undefined) clearTimeout(t);
    this.timers.delete(name);
  }

  private detach(ws: WebSocket): void {
    ws.onopen = ws.onclose = ws.onerror = ws.onmessage = null;
    if (this.socket === ws) this.socket = null;
  }

  private async open(): Promise<void> {
    let url: string;
    try {
      url = await this.opts.url();
    } catch (err) {
      // No token (signed out, refresh failed): treat as a failed attempt.
      console.warn('warroom: cannot build socket URL', err);
      this.dispatch({ type: 'socket_closed', code: 1006 });
      return;
    }
    if (this.disposed || this.state.status !== 'connecting') return;
    let ws: WebSocket;
    try {
      ws = new WebSocket(url);
    } catch {
      this.dispatch({ type: 'socket_closed', code: 1006 });
      return;
    }
    this.socket = ws;
    this.opened = false;
    ws.onopen = () => {
      this.opened = true;
      this.dispatch({ type: 'socket_open' });
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (typeof ev.data !== 'string') return;
      let frame: ServerFrame;
      try {
        frame = parseServerFrame(ev.data);
      } catch (err) {
        if (err instanceof ProtocolError) {
          console.warn('warroom: ignored frame', err.message);
          return;
        }
        throw err;
      }
      this.dispatch({ type: 'frame', frame });
    };
    ws.onclose = (ev: CloseEvent) => {
      const neverOpened = !this.opened;
      this.detach(ws);
      this.dispatch({ type: 'socket_closed', code: ev.code, reason: ev.reason });
      if (neverOpened && this.opts.probeFailure) void this.probe();
    };
    // onerror is always followed by onclose; nothing to do twice.
  }

  private async probe(): Promise<void> {
    try {
      const reason = await this.opts.probeFailure?.();
      if (reason) this.dispatch({ type: 'fatal', reason });
    } catch {
      /* the API is unreachable too: keep retrying */
    }
  }
}

export function buildSocketUrl(wsUrl: string, token: string, roomId?: string): string {
  const u = new URL(wsUrl);
  if (roomId) u.searchParams.set('room_id', roomId);
  u.searchParams.set('token', token);
  return u.toString();
}
