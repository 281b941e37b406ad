import type { ScenarioResult } from './scenario.ts';

/**
 * Looks for every configured secret (encryption key, admin tokens, webhook secrets, CRM tokens) in
 * everything the run produced: the service processes' logs and every answer the suite received.
 */
export function scanForSecrets(transcript: string[], secrets: string[]): ScenarioResult {
  const started = Date.now();
  const distinct = [...new Set(secrets.filter((s) => s.length >= 8))];
  const leaked = distinct.filter((secret) => transcript.some((text) => text.includes(secret)));
  const bytes = transcript.reduce((sum, text) => sum + text.length, 0);
  return {
    name: 'secret-scan',
    description: 'every configured secret searched for in all logs and answers of the run',
    seconds: (Date.now() - started) / 1000,
    fault: `${distinct.length} secrets in ${(bytes / 1e6).toFixed(1)} MB`,
    recoverySeconds: null,
    checks: [{ name: 'secrets found in logs or answers', ok: leaked.length === 0 && distinct.length > 0, detail: leaked.length === 0 ? `0 of ${distinct.length}` : `${leaked.length} (starting ${leaked.map((s) => s.slice(0, 4)).join(', ')}…)` }],
  };
}
