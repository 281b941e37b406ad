import type { Seniority } from '../../signals/catalogue.ts';

/**
 * A job title's seniority bucket. Deliberately small and predictable: the engine uses it for
 * "executive engaged", where a missed executive costs less than an invented one.
 */
const rules: readonly [RegExp, Seniority][] = [
  [/\b(ceo|cfo|cto|coo|cio|ciso|cmo|cro|cpo|chief|president|founder|co-founder|cofounder)\b/i, 'executive'],
  [/\b(vp|svp|evp|avp|vice president)\b/i, 'vp'],
  [/\b(director|head of)\b/i, 'director'],
  [/\b(manager|lead)\b/i, 'manager'],
];

export function seniorityFromTitle(title: string | null | undefined): Seniority {
  if (!title?.trim()) return 'unknown';
  // "Vice President" must not read as "President".
  const withoutVice = title.replace(/\bvice[\s-]+president\b/gi, 'VP');
  return rules.find(([pattern]) => pattern.test(withoutVice))?.[1] ?? 'individual';
}

const rank: Record<Seniority, number> = { unknown: 0, individual: 1, manager: 2, director: 3, vp: 4, executive: 5 };

/** The most senior of several titles; `unknown` when none is given. */
export function topSeniority(titles: readonly (string | null | undefined)[]): Seniority {
  return titles.map(seniorityFromTitle).reduce<Seniority>((top, next) => (rank[next] > rank[top] ? next : top), 'unknown');
}
