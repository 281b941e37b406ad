import { describe, expect, it } from 'vitest';
import { stackedBars } from './svg-chart.ts';

describe('stackedBars', () => {
  it('draws one segment per non-zero part, widths in proportion, with an accessible label', () => {
    const svg = stackedBars([{ title: 'How it was carried out', parts: [
      { label: 'auto', value: 3, color: '#0b5cad' },
      { label: 'rejected', value: 0, color: '#a40e26' },
      { label: 'suggested', value: 1, color: '#7a4d00' },
    ] }], 'rule <x>: 3 auto, 1 suggested').value;
    expect(svg).toContain('role="img" aria-label="rule &lt;x&gt;: 3 auto, 1 suggested"');
    expect(svg.match(/<rect /g)).toHaveLength(2);
    expect(svg).toContain('width="240.0"');
    expect(svg).toContain('x="240.0"');
    expect(svg).toContain('<title>suggested: 1</title>');
    expect(svg).not.toContain('style=');
  });

  it('shows an empty row as an outlined bar', () => {
    const svg = stackedBars([{ title: 'Closed deals', parts: [{ label: 'won', value: 0, color: '#116329' }] }], 'none').value;
    expect(svg).toContain('Closed deals — none');
    expect(svg).toContain('stroke="#d0d7de"');
  });
});
