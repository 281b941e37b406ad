import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretBox } from './secret-box.ts';

const key = () => randomBytes(32).toString('base64');

describe('SecretBox', () => {
  it('round-trips a value and never stores it in clear', () => {
    const box = new SecretBox(key());
    const sealed = box.seal({ token: 'pat-na1-secret-value' });
    expect(sealed).not.toContain('pat-na1-secret-value');
    expect(box.open(sealed)).toEqual({ token: 'pat-na1-secret-value' });
  });

  it('opens values sealed with a previous key after rotation and marks them stale', () => {
    const oldKey = key();
    const sealedBefore = new SecretBox(oldKey).seal('s3cret');
    const rotated = new SecretBox(key(), [oldKey]);
    expect(rotated.open(sealedBefore)).toBe('s3cret');
    expect(rotated.isStale(sealedBefore)).toBe(true);
    expect(rotated.isStale(rotated.seal('s3cret'))).toBe(false);
  });

  it('refuses tampered ciphertext and unknown keys', () => {
    const box = new SecretBox(key());
    const parts = box.seal('value').split('.');
    parts[4] = Buffer.from('tampered').toString('base64url');
    expect(() => box.open(parts.join('.'))).toThrow();
    expect(() => new SecretBox(key()).open(box.seal('value'))).toThrow(/not configured/);
  });
});
