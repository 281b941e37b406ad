import { defaultPlaybookText } from '../../src/engine/playbook/default-playbook.ts';

/**
 * The default playbook plus one rule a person must approve: a contract sent while the deal is still
 * in Discovery. `approvals` replaces the body of the playbook's `approvals` section.
 */
export function playbookWithApprovalRule(approvals?: string): string {
  const text = defaultPlaybookText().replace(
    /^rules:\n/m,
    `rules:
  - id: approve-early-contract
    type: activity
    mode: approve
    description: Contract sent while the deal is still in discovery
    from: [discovery]
    when:
      signal: { type: esign.sent }
    advanceTo: qualified
`,
  );
  return approvals === undefined ? text : text.replace(/^approvals:\n(?: .*\n)*/m, `approvals:\n${approvals}`);
}
