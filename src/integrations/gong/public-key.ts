import { createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/**
 * Gong's "Show public key" gives a PEM body, sometimes without the BEGIN/END lines. Both forms
 * are accepted and stored in the full form.
 */
export function normalizePublicKeyPem(text: string): string {
  const body = text
    .replace(/-----(BEGIN|END) (RSA )?PUBLIC KEY-----/g, '')
    .replace(/\s+/g, '');
  const kind = /-----BEGIN RSA PUBLIC KEY-----/.test(text) ? 'RSA PUBLIC KEY' : 'PUBLIC KEY';
  const lines = body.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${kind}-----\n${lines.join('\n')}\n-----END ${kind}-----\n`;
}

/** The RSA public key in a normalized PEM, or undefined when it is not one. */
export function rsaPublicKey(pem: string): KeyObject | undefined {
  try {
    const key = createPublicKey({ key: pem, format: 'pem' });
    return key.asymmetricKeyType === 'rsa' ? key : undefined;
  } catch {
    return undefined;
  }
}
