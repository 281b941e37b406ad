import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WebhookBodyError } from '../webhook-source.ts';
import { docusignMessage } from './fixtures.ts';
import { parseDocusignMessage } from './payload.ts';

const asBody = (value: unknown) => Buffer.from(JSON.stringify(value));

function bodyError(run: () => unknown): WebhookBodyError {
  try {
    run();
  } catch (error) {
    if (error instanceof WebhookBodyError) return error;
    throw error;
  }
  throw new Error('expected a WebhookBodyError');
}

describe('parseDocusignMessage', () => {
  it('reads a JSON SIM message, including DocuSign seven-digit fractions', () => {
    const message = parseDocusignMessage(asBody(docusignMessage()));
    expect(message).toMatchObject({ event: 'envelope-completed', generatedDateTime: '2026-03-02T09:59:12.4170000Z', retryCount: '0' });
  });

  it('calls a non-JSON body malformed', () => {
    expect(bodyError(() => parseDocusignMessage(Buffer.from('<xml/>')))).toMatchObject({ kind: 'malformed' });
  });

  it('names the first bad field of a schema failure', () => {
    const message = docusignMessage() as { data: Record<string, unknown> };
    delete message.data['envelopeId'];
    expect(bodyError(() => parseDocusignMessage(asBody(message)))).toMatchObject({ kind: 'schema', path: 'data.envelopeId' });
    expect(bodyError(() => parseDocusignMessage(asBody({ ...docusignMessage(), generatedDateTime: 'yesterday' })))).toMatchObject({ path: 'generatedDateTime' });
  });

  it('throws nothing but WebhookBodyError, whatever the bytes', () => {
    const onlyBodyErrors = (raw: Buffer) => {
      try {
        parseDocusignMessage(raw);
      } catch (error) {
        expect(error).toBeInstanceOf(WebhookBodyError);
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => onlyBodyErrors(Buffer.from(bytes))), { numRuns: 2000 });
    fc.assert(fc.property(fc.json({ maxDepth: 5 }), (json) => onlyBodyErrors(Buffer.from(json))), { numRuns: 2000 });
  });
});
