import { describe, expect, it } from 'vitest';
import { NEXT_STATES, canPin, fromLocalInput, stateOf, toLocalInput } from '../src/lib/record';
import type { Message } from '../src/protocol';

describe('the incident lifecycle in the client', () => {
  it('offers the moves the server allows, reopening from resolved and closed', () => {
    // Given each state, Then the next moves are the server's (logic/incident.py)
    expect(NEXT_STATES.declared).toEqual(['acknowledged']);
    expect(NEXT_STATES.contained).toEqual(['resolved']);
    expect(NEXT_STATES.resolved).toEqual(['closed', 'acknowledged']);
    expect(NEXT_STATES.closed).toEqual(['acknowledged']);
  });

  it('reads a room from an older server by its status', () => {
    // Given rooms without a state, When read, Then the state follows the status
    expect(stateOf({ status: 'active' })).toBe('declared');
    expect(stateOf({ status: 'resolved' })).toBe('resolved');
    expect(stateOf({ status: 'archived' })).toBe('closed');
    // and a room with a state keeps it
    expect(stateOf({ status: 'active', state: 'contained' })).toBe('contained');
  });
});

describe('event times', () => {
  it('edits in GMT+8 whatever the browser zone, and round-trips', () => {
    // Given an instant, When shown in the time field, Then it is the GMT+8 wall clock
    expect(toLocalInput('2026-03-02T00:30:00.000000Z')).toBe('2026-03-02T08:30');
    // When the field is saved, Then the same instant goes back
    expect(fromLocalInput('2026-03-02T08:30')).toBe('2026-03-02T00:30:00.000Z');
  });
});

describe('pinning', () => {
  it('pins what people posted, not room events or deleted messages', () => {
    const base = { message_type: 'text', deleted_at: null } as unknown as Message;
    expect(canPin(base)).toBe(true);
    expect(canPin({ ...base, message_type: 'system' } as Message)).toBe(false);
    expect(canPin({ ...base, deleted_at: '2026-03-02T00:00:00Z' } as Message)).toBe(false);
  });
});
