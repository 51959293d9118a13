// Grouped bar charts as dependency-free SVG: one panel per metric, groups
// on the x axis (workloads), one bar per series (tool) in each group.

export interface BarPanel {
  title: string;
  unit: string;
  groups: string[];
  series: Array<{ name: string; color: string; values: Array<number | null> }>;
  /** A horizontal target line (e.g. 150K events/s). */
  target?: { value: number; label: string };
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]!));

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmt(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toFixed(2)}M`;
  if (v >= 1e4) return `${+(v / 1e3).toFixed(0)}K`;
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

export function renderBars(title: string, panels: BarPanel[], width = 900): string {
  const ph = 190, top = 50, gap = 70, left = 70, right = 20;
  const height = top + panels.length * (ph + gap) + 10;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`);
  // Legend from the first panel's series.
  const names = panels[0]?.series ?? [];
  names.forEach((s, i) => {
    const x = left + i * 130;
    out.push(`<rect x="${x}" y="30" width="10" height="10" fill="${s.color}"/><text x="${x + 14}" y="39">${esc(s.name)}</text>`);
  });
  const W = width - left - right;
  panels.forEach((p, pi) => {
    const y0 = top + pi * (ph + gap) + 20;
    const vals = p.series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
    const yMax = niceMax(Math.max(0, ...vals, p.target?.value ?? 0));
    const sy = (v: number) => y0 + ph - (v / yMax) * ph;
    out.push(`<text x="${left}" y="${y0 - 8}" font-weight="bold">${esc(p.title)} (${esc(p.unit)})</text>`);
    for (let k = 0; k <= 4; k++) {
      const v = (yMax * k) / 4;
      out.push(`<line x1="${left}" x2="${left + W}" y1="${sy(v)}" y2="${sy(v)}" stroke="#e5e5e5"/>`);
      out.push(`<text x="${left - 6}" y="${sy(v) + 4}" text-anchor="end">${fmt(v)}</text>`);
    }
    const gw = W / Math.max(1, p.groups.length);
    const bw = Math.min(40, (gw * 0.8) / Math.max(1, p.series.length));
    p.groups.forEach((g, gi) => {
      const gx = left + gi * gw + (gw - bw * p.series.length) / 2;
      p.series.forEach((s, si) => {
        const v = s.values[gi];
        const x = gx + si * bw;
        if (v === null || v === undefined || !Number.isFinite(v)) {
          out.push(`<text x="${x + bw / 2}" y="${y0 + ph - 4}" text-anchor="middle" fill="#999">n/a</text>`);
          return;
        }
        out.push(`<rect x="${x.toFixed(1)}" y="${sy(v).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${(y0 + ph - sy(v)).toFixed(1)}" fill="${s.color}"><title>${esc(`${s.name} ${g}: ${fmt(v)} ${p.unit}`)}</title></rect>`);
        out.push(`<text x="${(x + bw / 2 - 1).toFixed(1)}" y="${(sy(v) - 3).toFixed(1)}" text-anchor="middle" font-size="9">${fmt(v)}</text>`);
      });
      out.push(`<text x="${left + gi * gw + gw / 2}" y="${y0 + ph + 16}" text-anchor="middle">${esc(g)}</text>`);
    });
    if (p.target) {
      out.push(`<line x1="${left}" x2="${left + W}" y1="${sy(p.target.value)}" y2="${sy(p.target.value)}" stroke="#d62728" stroke-dasharray="5,4"/>`);
      out.push(`<text x="${left + W - 4}" y="${sy(p.target.value) - 4}" text-anchor="end" fill="#d62728">${esc(p.target.label)}</text>`);
    }
    out.push(`<line x1="${left}" x2="${left + W}" y1="${y0 + ph}" y2="${y0 + ph}" stroke="#333"/>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
