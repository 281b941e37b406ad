import { html, type SafeHtml } from './html.ts';

export interface BarPart {
  label: string;
  value: number;
  /** A fill colour the code chooses (never data). */
  color: string;
}

const WIDTH = 320;
const BAR = 16;
const ROW = 34;

/**
 * Small horizontal stacked bars, one per row, drawn server-side as inline SVG with presentation
 * attributes only (the CSP allows no inline styles). Screen readers get the numbers as the
 * image's label, so the chart adds nothing the table beside it does not say.
 */
export function stackedBars(rows: Array<{ title: string; parts: BarPart[] }>, label: string): SafeHtml {
  const height = rows.length * ROW;
  return html`<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="${label}">
    ${rows.map((row, index) => {
      const total = row.parts.reduce((sum, p) => sum + p.value, 0);
      const y = index * ROW;
      let x = 0;
      const segments = row.parts.filter((p) => p.value > 0).map((p) => {
        const width = (p.value / total) * WIDTH;
        const rect = html`<rect x="${x.toFixed(1)}" y="${y + 14}" width="${width.toFixed(1)}" height="${BAR}" fill="${p.color}"><title>${p.label}: ${p.value}</title></rect>`;
        x += width;
        return rect;
      });
      return html`<text x="0" y="${y + 11}" font-size="11" fill="#57606a">${row.title}${total === 0 ? ' — none' : ''}</text>
        ${total === 0 ? html`<rect x="0" y="${y + 14}" width="${WIDTH}" height="${BAR}" fill="#f6f8fa" stroke="#d0d7de"></rect>` : segments}`;
    })}
  </svg>`;
}
