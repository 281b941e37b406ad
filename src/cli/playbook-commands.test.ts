import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { validatePlaybookFile } from './playbook-commands.ts';
import { defaultPlaybookText } from '../engine/playbook/default-playbook.ts';

describe('momentum playbook validate', () => {
  afterEach(() => vi.restoreAllMocks());

  it('accepts the default playbook', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'playbook-'));
    const file = path.join(dir, 'ok.yaml');
    await writeFile(file, defaultPlaybookText());
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(await validatePlaybookFile(file)).toBe(0);
    expect(String(out.mock.calls[0]?.[0])).toContain('valid playbook');
  });

  it('lists each problem with its file, line and path, and fails', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'playbook-'));
    const file = path.join(dir, 'bad.yaml');
    await writeFile(file, 'name: broken\nstages:\n  - key: one\nrules: 3\n');
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await validatePlaybookFile(file)).toBe(1);
    const printed = err.mock.calls.map((call) => String(call[0])).join('');
    expect(printed).toMatch(/bad\.yaml:\d+/);
    expect(printed).toContain('rules');
    expect(printed).toMatch(/\d+ problem\(s\)/);
  });
});
