import { describe, expect, it } from 'vitest';
import { seniorityFromTitle, topSeniority } from './seniority.ts';

describe('seniorityFromTitle', () => {
  it.each([
    ['CEO', 'executive'],
    ['Chief Financial Officer', 'executive'],
    ['President', 'executive'],
    ['Co-Founder & CTO', 'executive'],
    ['Vice President, Sales', 'vp'],
    ['SVP Engineering', 'vp'],
    ['EVP', 'vp'],
    ['Director of IT', 'director'],
    ['Head of Procurement', 'director'],
    ['IT Manager', 'manager'],
    ['Team Lead', 'manager'],
    ['Software Engineer', 'individual'],
    ['', 'unknown'],
    [null, 'unknown'],
    [undefined, 'unknown'],
  ])('%j is %s', (title, expected) => {
    expect(seniorityFromTitle(title)).toBe(expected);
  });

  it('picks the most senior title', () => {
    expect(topSeniority(['IT Manager', 'VP Finance', 'Analyst'])).toBe('vp');
    expect(topSeniority([])).toBe('unknown');
    expect(topSeniority([null, 'Analyst'])).toBe('individual');
  });
});
