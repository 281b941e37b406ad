/**
 * Guesses what kind of meeting an Event was from its subject, so "demo logged" can satisfy a
 * playbook gate. Anything unclear stays `other`; a wrong guess would move a deal, a missed one won't.
 */
const kindsBySubject: readonly [RegExp, 'discovery' | 'demo' | 'technical' | 'executive'][] = [
  [/\bdemo(nstration)?s?\b/i, 'demo'],
  [/\bdiscovery\b/i, 'discovery'],
  [/\b(technical|tech review|architecture|security review|poc|proof of concept)\b/i, 'technical'],
  [/\b(executive|exec|c-level|ceo|cfo|cto)\b/i, 'executive'],
];

export function meetingKindFromSubject(subject: string | null | undefined): 'discovery' | 'demo' | 'technical' | 'executive' | 'other' {
  if (!subject) return 'other';
  return kindsBySubject.find(([pattern]) => pattern.test(subject))?.[1] ?? 'other';
}
