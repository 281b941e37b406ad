import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Encrypts credentials at rest with AES-256-GCM. Each ciphertext names the key that sealed it, so
 * after a key rotation old rows still open with a previous key until they are re-sealed.
 *
 * Format: `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts).
 */
export class SecretBox {
  readonly #current: { id: string; key: Buffer };
  readonly #byId: Map<string, Buffer>;

  constructor(currentKey: string, previousKeys: readonly string[] = []) {
    const current = toKey(currentKey);
    this.#current = current;
    this.#byId = new Map([current, ...previousKeys.map(toKey)].map(({ id, key }) => [id, key]));
  }

  get currentKeyId(): string {
    return this.#current.id;
  }

  seal(value: unknown): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#current.key, iv);
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return ['v1', this.#current.id, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.');
  }

  open<T = unknown>(sealed: string): T {
    const [version, keyId, iv, tag, ciphertext] = sealed.split('.');
    if (version !== 'v1' || !keyId || !iv || !tag || ciphertext === undefined) throw new Error('stored secret has an unknown format');
    const key = this.#byId.get(keyId);
    if (!key) throw new Error(`stored secret was sealed with key ${keyId}, which is not configured`);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const plain = Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as T;
  }

  /** True when the value was sealed with an older key and should be re-sealed. */
  isStale(sealed: string): boolean {
    return sealed.split('.')[1] !== this.#current.id;
  }
}

function toKey(base64: string): { id: string; key: Buffer } {
  const key = Buffer.from(base64, 'base64');
  if (key.length !== 32) throw new Error('an encryption key must be 32 bytes');
  // The id identifies a key without revealing it.
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 12), key };
}
