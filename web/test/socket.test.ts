// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Connection, buildSocketUrl } from '../src/conn/socket';
import type { ServerFrame } from '../src/protocol';
import { msg } from './support';

/** A stand-in WebSocket the test drives by hand. */
class FakeSocket {
  static all: FakeSocket[] = [];
  static readonly OPEN = 1;
  readyState = 0;
  sent: unknown[] = [];
  onopen: (() => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: (() => void) | null = null;
  onmessage: ((ev: { data: string }) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(): void {
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.();
  }
  receive(frame: ServerFrame): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  drop(): void {
    this.readyState = 3;
    this.onclose?.({ code: 1006, reason: '' });
  }
}

const flush = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.all = [];
  vi.stubGlobal('WebSocket', FakeSocket);
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('Connection driver', () => {
  it('resumes after a drop and sends the outbox once, on a fresh socket', async () => {
    // Given a room connection holding messages up to 4
    const frames: ServerFrame[] = [];
    const conn = new Connection({
      room: true,
      lastSeq: 4,
      url: async () => buildSocketUrl('ws://h/ws', 'tok', 'room 1'),
      onFrame: (f) => frames.push(f),
      env: { random: () => 0, now: () => Date.now() },
    });
    conn.start();
    await flush();
    const first = FakeSocket.all[0]!;
    expect(first.url).toBe('ws://h/ws?room_id=room+1&token=tok');
    first.open();
    expect(first.sent).toEqual([{ type: 'sync', after_seq: 4 }]);
    first.receive({ type: 'sync', messages: [], has_more: false });

    // When the socket drops and a message is written meanwhile
    first.drop();
    conn.send({ type: 'message', client_msg_id: 'c1', message_type: 'text', content: 'hi', mentions: [] });
    expect(conn.current.status).toBe('backoff');

    // Then after the backoff a new socket resumes and only then sends it
    await vi.advanceTimersByTimeAsync(250);
    const second = FakeSocket.all[1]!;
    second.open();
    expect(second.sent).toEqual([{ type: 'sync', after_seq: 4 }]);
    second.receive({ type: 'sync', messages: [], has_more: false });
    expect(second.sent.slice(1)).toEqual([
      { type: 'message', client_msg_id: 'c1', message_type: 'text', content: 'hi', mentions: [] },
    ]);
    // And the old socket is ignored if it speaks again
    first.receive({ type: 'pong' });
    expect(first.sent).toHaveLength(1);
    conn.stop();
  });

  it('pings every 30 s and reconnects when the pong does not come', async () => {
    const conn = new Connection({ room: false, url: async () => 'ws://h/ws?token=t', onFrame: () => {}, env: { random: () => 0, now: () => Date.now() } });
    conn.start();
    await flush();
    const ws = FakeSocket.all[0]!;
    ws.open();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(ws.sent).toEqual([{ type: 'ping' }]);
    ws.receive({ type: 'pong' });
    await vi.advanceTimersByTimeAsync(30_000);
    expect(ws.sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(10_000); // no pong this time
    expect(conn.current.status).toBe('backoff');
    await vi.advanceTimersByTimeAsync(250);
    expect(FakeSocket.all).toHaveLength(2);
    conn.stop();
  });

  it('ignores frames it cannot parse instead of failing', async () => {
    const frames: ServerFrame[] = [];
    const conn = new Connection({ room: false, url: async () => 'ws://h/ws', onFrame: (f) => frames.push(f) });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    conn.start();
    await flush();
    const ws = FakeSocket.all[0]!;
    ws.open();
    ws.onmessage?.({ data: '{"type":"mystery"}' });
    ws.onmessage?.({ data: 'not json' });
    ws.receive({ type: 'notification', event: 'mention', room_id: 'r1', message: msg(1) });
    expect(frames.map((f) => f.type)).toEqual(['notification']);
    expect(warn).toHaveBeenCalledTimes(2);
    conn.stop();
  });
});
