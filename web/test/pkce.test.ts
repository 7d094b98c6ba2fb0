import { describe, expect, it } from 'vitest';
import { base64Url, codeChallenge, jwtExpiry, newCodeVerifier } from '../src/auth/pkce';
import { parseRoute, roomHref } from '../src/router';

describe('PKCE', () => {
  it('matches the RFC 7636 appendix B example', async () => {
    expect(await codeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
  });

  it('makes verifiers of allowed characters and length', () => {
    const v = newCodeVerifier();
    expect(v).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    expect(newCodeVerifier()).not.toBe(v);
  });

  it('encodes base64url without padding', () => {
    expect(base64Url(new Uint8Array([251, 255]))).toBe('-_8');
  });

  it('reads a JWT expiry in ms and ignores garbage', () => {
    const payload = base64Url(new TextEncoder().encode(JSON.stringify({ exp: 1700000000 })));
    expect(jwtExpiry(`h.${payload}.s`)).toBe(1700000000 * 1000);
    expect(jwtExpiry('nope')).toBeNull();
  });
});

describe('routes', () => {
  it('parses the hash routes', () => {
    expect(parseRoute('')).toEqual({ name: 'rooms' });
    expect(parseRoute('#/rooms/r%201?msg=m1')).toEqual({ name: 'room', roomId: 'r 1', messageId: 'm1' });
    expect(parseRoute('#/search?q=spindle%20temp')).toEqual({ name: 'search', q: 'spindle temp' });
    expect(roomHref('r1', 'm 2')).toBe('#/rooms/r1?msg=m%202');
  });
});
