import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * For the embedded quick start only: the credential-encryption key is generated on first start and
 * kept in the data directory, readable by its owner alone. Production passes MOMENTUM_ENCRYPTION_KEY.
 */
export async function loadOrCreateLocalEncryptionKey(dataDir: string): Promise<string> {
  const file = path.join(path.resolve(dataDir), 'encryption.key');
  await fs.mkdir(path.dirname(file), { recursive: true });
  try {
    await fs.writeFile(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return (await fs.readFile(file, 'utf8')).trim();
}
