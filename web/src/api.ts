/** The HTTP API, typed. Every call carries the bearer token and retries once after a 401. */

import type { Auth } from './auth/auth';
import type { HttpOutcome } from './conn/machine';
import type {
  AckFields,
  FileLink,
  FileList,
  HistoryPage,
  Limits,
  Me,
  Member,
  MemberList,
  MachineReading,
  Message,
  MessageList,
  Role,
  Room,
  RoomDraft,
  RoomList,
  RoomPatch,
  RoomStatus,
  SearchAnswer,
  SendMessageFrame,
  UploadRequest,
  UploadTicket,
  UserList,
} from './protocol';
import type { IncidentState } from './protocol';
import type { FollowUp, FollowUpStatus, Line, ReportLang, RoomMetrics, TimelineEntry, WeeklyMetrics } from './lib/record';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** RATE_LIMITED: seconds to wait */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

/** The bodies of `POST /api/rooms` and `PATCH /api/rooms/{id}` (generated from the server's models). */
export type { RoomDraft, RoomPatch };

const GET_RETRY_PAUSES_MS = [250, 750];

export class Api {
  constructor(
    readonly base: string,
    private readonly auth: Auth,
  ) {}

  private async request(path: string, init: RequestInit = {}, retried = false): Promise<Response> {
    const token = await this.auth.getToken();
    const headers = new Headers(init.headers);
    headers.set('Authorization', `Bearer ${token}`);
    if (init.body && typeof init.body === 'string') headers.set('Content-Type', 'application/json');
    const res = await this.fetchWithRetry(`${this.base}${path}`, { ...init, headers });
    if (res.status === 401 && !retried && (await this.auth.recover())) {
      return this.request(path, init, true);
    }
    if (!res.ok) {
      let code = 'HTTP_' + res.status;
      let message = res.statusText || `HTTP ${res.status}`;
      let retryAfter = Number(res.headers.get('Retry-After')) || undefined;
      try {
        const body = (await res.json()) as { error?: { code?: string; message?: string; retry_after?: number } };
        code = body.error?.code ?? code;
        message = body.error?.message ?? message;
        retryAfter = body.error?.retry_after ?? retryAfter;
      } catch {
        /* not JSON */
      }
      throw new ApiError(res.status, code, message, retryAfter);
    }
    return res;
  }

  /**
   * Reads (GET) are safe to repeat, so a server error or a dropped connection
   * is retried twice after short pauses (a cold Lambda, a throttled proxy).
   * Writes are never repeated here: their caller decides.
   */
  private async fetchWithRetry(url: string, init: RequestInit): Promise<Response> {
    const idempotent = (init.method ?? 'GET').toUpperCase() === 'GET';
    const pauses = idempotent ? GET_RETRY_PAUSES_MS : [];
    for (let i = 0; ; i++) {
      try {
        const res = await fetch(url, init);
        if (res.status < 500 || i >= pauses.length) return res;
      } catch (err) {
        if (i >= pauses.length) throw err;
      }
      await new Promise((r) => setTimeout(r, pauses[i]));
    }
  }

  private async json<T>(path: string, init?: RequestInit): Promise<T> {
    const res = await this.request(path, init);
    return (await res.json()) as T;
  }

  me(): Promise<Me> {
    return this.json('/api/me');
  }

  users(q: string): Promise<UserList> {
    return this.json(`/api/users?q=${encodeURIComponent(q)}`);
  }

  limits(): Promise<Limits> {
    return this.json('/api/limits');
  }

  rooms(status?: RoomStatus): Promise<RoomList> {
    return this.json(`/api/rooms${status ? `?status=${status}` : ''}`);
  }

  room(roomId: string): Promise<Room> {
    return this.json(`/api/rooms/${encodeURIComponent(roomId)}`);
  }

  createRoom(draft: RoomDraft): Promise<Room> {
    return this.json('/api/rooms', { method: 'POST', body: JSON.stringify(draft) });
  }

  updateRoom(roomId: string, patch: RoomPatch): Promise<Room> {
    return this.json(`/api/rooms/${encodeURIComponent(roomId)}`, {
      method: 'PATCH',
      body: JSON.stringify(patch),
    });
  }

  members(roomId: string): Promise<MemberList> {
    return this.json(`/api/rooms/${encodeURIComponent(roomId)}/members`);
  }

  addMember(roomId: string, user_id: string, role: Role): Promise<Member> {
    return this.json(`/api/rooms/${encodeURIComponent(roomId)}/members`, {
      method: 'POST',
      body: JSON.stringify({ user_id, role }),
    });
  }

  setMemberRole(roomId: string, userId: string, role: Role): Promise<Member> {
    return this.json(
      `/api/rooms/${encodeURIComponent(roomId)}/members/${encodeURIComponent(userId)}`,
      { method: 'PATCH', body: JSON.stringify({ role }) },
    );
  }

  async removeMember(roomId: string, userId: string): Promise<void> {
    await this.request(
      `/api/rooms/${encodeURIComponent(roomId)}/members/${encodeURIComponent(userId)}`,
      { method: 'DELETE' },
    );
  }

  /** Newest first, before a sequence number (or the newest page without one). */
  history(roomId: string, opts: { limit?: number; beforeSeq?: number } = {}): Promise<HistoryPage> {
    const q = new URLSearchParams({ limit: String(opts.limit ?? 50) });
    if (opts.beforeSeq !== undefined) q.set('before_seq', String(opts.beforeSeq));
    return this.json(`/api/rooms/${encodeURIComponent(roomId)}/messages?${q.toString()}`);
  }

  /** One message by number, in full (for a copy that arrived with `content_truncated`). */
  async messageAt(roomId: string, seq: number): Promise<Message | null> {
    const q = new URLSearchParams({ after_seq: String(seq - 1), limit: '1' });
    const page = await this.json<HistoryPage>(`/api/rooms/${encodeURIComponent(roomId)}/messages?${q.toString()}`);
    return page.messages.find((m) => m.sequence_number === seq) ?? null;
  }

  /**
   * The HTTP send, for a message whose frame would pass 32 KB: the same checks,
   * idempotency (client_msg_id) and broadcast as the WebSocket. A refusal comes
   * back as an outcome (the outbox decides); only a network failure throws.
   */
  async sendMessage(roomId: string, frame: SendMessageFrame): Promise<HttpOutcome> {
    try {
      const ack = await this.json<AckFields>(`/api/rooms/${encodeURIComponent(roomId)}/messages`, {
        method: 'POST',
        body: JSON.stringify(frame),
      });
      return { ok: true, ack: { ...ack, type: 'ack', client_msg_id: ack.client_msg_id ?? frame.client_msg_id } };
    } catch (err) {
      if (err instanceof ApiError) {
        const code =
          err.status === 413
            ? 'PAYLOAD_TOO_LARGE'
            : err.status === 429
              ? 'RATE_LIMITED'
              : err.status >= 500 && err.code.startsWith('HTTP_')
                ? 'UNAVAILABLE'
                : err.code;
        return { ok: false, code, message: err.message, retry_after: err.retryAfter };
      }
      throw err;
    }
  }

  // --- Web Push and "take it" (issue 19) ---
  async vapidPublicKey(): Promise<string> {
    return (await this.json<{ key: string }>('/api/push/vapid-public-key')).key;
  }

  async savePushSubscription(subscription: PushSubscriptionJSON): Promise<void> {
    await this.request('/api/push/subscriptions', { method: 'POST', body: JSON.stringify(subscription) });
  }

  async deletePushSubscription(endpoint: string): Promise<void> {
    await this.request('/api/push/subscriptions', { method: 'DELETE', body: JSON.stringify({ endpoint }) });
  }

  async takeIncident(roomId: string): Promise<void> {
    await this.request(`/api/rooms/${encodeURIComponent(roomId)}/take`, { method: 'POST' });
  }

  async markRead(roomId: string, lastReadSeq: number): Promise<void> {
    await this.request(`/api/rooms/${encodeURIComponent(roomId)}/read`, {
      method: 'POST',
      body: JSON.stringify({ last_read_seq: lastReadSeq }),
    });
  }

  search(q: string, roomId?: string): Promise<SearchAnswer> {
    const p = new URLSearchParams({ q });
    if (roomId) p.set('room_id', roomId);
    return this.json(`/api/search?${p.toString()}`);
  }

  mentions(): Promise<MessageList> {
    return this.json('/api/mentions');
  }

  /** A production line's machine readings (issue 18), downsampled over long ranges. */
  lineReadings(lineId: string, from: string): Promise<{ points: MachineReading[]; downsampled: boolean }> {
    const q = new URLSearchParams({ from });
    return this.json(`/api/lines/${encodeURIComponent(lineId)}/readings?${q.toString()}`);
  }

  /** Every incident_data message that has a reading by this name (either shape). */
  incidentData(roomId: string, field: string): Promise<MessageList> {
    const q = new URLSearchParams({ field });
    return this.json(`/api/rooms/${encodeURIComponent(roomId)}/incident-data?${q.toString()}`);
  }

  files(roomId: string): Promise<FileList> {
    return this.json(`/api/rooms/${encodeURIComponent(roomId)}/files`);
  }

  requestUpload(roomId: string, file: UploadRequest): Promise<UploadTicket> {
    return this.json(`/api/rooms/${encodeURIComponent(roomId)}/files`, {
      method: 'POST',
      body: JSON.stringify(file),
    });
  }

  /** file_url from a message is an API path: resolve it to a short-lived presigned URL. */
  fileLink(fileUrlOrPath: string): Promise<FileLink> {
    const path = fileUrlOrPath.startsWith('http')
      ? new URL(fileUrlOrPath).pathname + new URL(fileUrlOrPath).search
      : fileUrlOrPath;
    return this.json(path);
  }

  fileLinkById(roomId: string, fileId: string): Promise<FileLink> {
    return this.json(`/api/rooms/${encodeURIComponent(roomId)}/files/${encodeURIComponent(fileId)}`);
  }

  /** The Markdown report in the reader's language (`lang`: en or zh-TW). */
  async report(roomId: string, lang?: string): Promise<string> {
    const query = lang ? `?lang=${encodeURIComponent(lang)}` : '';
    const res = await this.request(`/api/rooms/${encodeURIComponent(roomId)}/report${query}`);
    return res.text();
  }

  // The incident record (issue 17): lifecycle, commander, timeline, follow-ups, metrics, 8D.

  moveState(roomId: string, state: IncidentState, note?: string): Promise<Room> {
    return this.json(`/api/rooms/${encodeURIComponent(roomId)}/state`, {
      method: 'POST',
      body: JSON.stringify(note ? { state, note } : { state }),
    });
  }

  handOver(roomId: string, userId: string): Promise<Room> {
    return this.json(`/api/rooms/${encodeURIComponent(roomId)}/commander`, {
      method: 'PUT',
      body: JSON.stringify({ user_id: userId }),
    });
  }

  updateImpact(
    roomId: string,
    patch: {
      line_id?: string | null;
      machine?: string;
      stop_reason?: string;
      downtime_start?: string | null;
      downtime_end?: string | null;
    },
  ): Promise<Room> {
    return this.json(`/api/rooms/${encodeURIComponent(roomId)}/impact`, {
      method: 'PATCH',
      body: JSON.stringify(patch),
    });
  }

  timeline(roomId: string): Promise<{ entries: TimelineEntry[] }> {
    return this.json(`/api/rooms/${encodeURIComponent(roomId)}/timeline`);
  }

  pin(roomId: string, messageId: string, eventTime?: string): Promise<TimelineEntry> {
    return this.json(`/api/rooms/${encodeURIComponent(roomId)}/pins`, {
      method: 'POST',
      body: JSON.stringify(eventTime ? { message_id: messageId, event_time: eventTime } : { message_id: messageId }),
    });
  }

  async unpin(roomId: string, messageId: string): Promise<void> {
    await this.request(`/api/rooms/${encodeURIComponent(roomId)}/pins/${encodeURIComponent(messageId)}`, {
      method: 'DELETE',
    });
  }

  followUps(roomId: string): Promise<{ follow_ups: FollowUp[] }> {
    return this.json(`/api/rooms/${encodeURIComponent(roomId)}/follow-ups`);
  }

  addFollowUp(roomId: string, body: { title: string; owner_id: string; due: string }): Promise<FollowUp> {
    return this.json(`/api/rooms/${encodeURIComponent(roomId)}/follow-ups`, {
      method: 'POST',
      body: JSON.stringify(body),
    });
  }

  changeFollowUp(
    roomId: string,
    id: string,
    patch: { status?: FollowUpStatus; owner_id?: string; due?: string },
  ): Promise<FollowUp> {
    return this.json(`/api/rooms/${encodeURIComponent(roomId)}/follow-ups/${encodeURIComponent(id)}`, {
      method: 'PATCH',
      body: JSON.stringify(patch),
    });
  }

  roomMetrics(roomId: string): Promise<RoomMetrics> {
    return this.json(`/api/rooms/${encodeURIComponent(roomId)}/metrics`);
  }

  lines(): Promise<{ lines: Line[] }> {
    return this.json('/api/lines');
  }

  lineMetrics(lineId?: string): Promise<{ weeks: WeeklyMetrics[] }> {
    return this.json(`/api/metrics${lineId ? `?line_id=${encodeURIComponent(lineId)}` : ''}`);
  }

  async report8d(roomId: string, lang: ReportLang): Promise<string> {
    const q = new URLSearchParams({ format: '8d', lang });
    const res = await this.request(`/api/rooms/${encodeURIComponent(roomId)}/report?${q.toString()}`);
    return res.text();
  }

  async report8dPdf(roomId: string, lang: ReportLang): Promise<Blob> {
    const res = await this.request(`/api/rooms/${encodeURIComponent(roomId)}/report.pdf?lang=${encodeURIComponent(lang)}`);
    return res.blob();
  }
}

/**
 * Upload to a presigned POST with XMLHttpRequest, which (unlike fetch) reports
 * upload progress. Fields go first, the file last, as S3 requires.
 */
export function uploadPresigned(
  ticket: UploadTicket,
  file: File,
  onProgress: (fraction: number) => void,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(ticket.upload.fields)) form.append(k, v);
    form.append('file', file);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', ticket.upload.url);
    xhr.upload.onprogress = (ev) => {
      if (ev.lengthComputable) onProgress(ev.loaded / ev.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve();
      } else reject(new Error(`upload failed: HTTP ${xhr.status}`));
    };
    xhr.onerror = () => reject(new Error('upload failed: network error'));
    xhr.onabort = () => reject(new DOMException('upload cancelled', 'AbortError'));
    signal?.addEventListener('abort', () => xhr.abort());
    xhr.send(form);
  });
}
