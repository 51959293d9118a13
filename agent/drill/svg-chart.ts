// A dependency-free SVG chart: stacked panels sharing an x axis, one or more
// line series per panel, and vertical event markers (fault, failover, ...).
// Used by `edgelog drill` and bench/ to write charts next to their JSON.

export interface Series { readonly name: string; readonly color: string; readonly points: ReadonlyArray<readonly [number, number]> }
export interface Panel { readonly title: string; readonly unit: string; readonly series: readonly Series[]; readonly logScale?: boolean }
export interface Marker { readonly x: number; readonly label: string; readonly color?: string }
/** A shaded span of x (e.g. the fault window). */
export interface Band { readonly x1: number; readonly x2: number; readonly label: string; readonly color?: string }

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]!));

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function renderChart(title: string, xLabel: string, panels: readonly Panel[], markers: readonly Marker[] = [], width = 900, bands: readonly Band[] = []): string {
  const ph = 200, top = 40, gap = 50, left = 70, right = 20;
  const height = top + panels.length * (ph + gap) + 10;
  const xs = panels.flatMap((p) => p.series.flatMap((s) => s.points.map((q) => q[0])));
  const xMin = Math.min(0, ...xs), xMax = Math.max(1, ...xs, ...markers.map((m) => m.x));
  const W = width - left - right;
  const sx = (x: number) => left + ((x - xMin) / (xMax - xMin)) * W;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`);
  panels.forEach((p, i) => {
    const y0 = top + i * (ph + gap);
    const ys = p.series.flatMap((s) => s.points.map((q) => q[1]));
    const raw = Math.max(0, ...ys);
    const yMax = p.logScale ? 10 ** Math.ceil(Math.log10(Math.max(raw, 1))) : niceMax(raw);
    const yMin = p.logScale ? Math.min(1, ...ys.filter((v) => v > 0)) : 0;
    const sy = (v: number) => {
      if (p.logScale) {
        const lv = Math.log10(Math.max(v, yMin));
        return y0 + ph - ((lv - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin) || 1)) * ph;
      }
      return y0 + ph - (v / yMax) * ph;
    };
    out.push(`<text x="${left}" y="${y0 - 8}" font-weight="bold">${esc(p.title)} (${esc(p.unit)})</text>`);
    out.push(`<rect x="${left}" y="${y0}" width="${W}" height="${ph}" fill="none" stroke="#999"/>`);
    for (let k = 0; k <= 4; k++) {
      const v = p.logScale ? 10 ** (Math.log10(yMin) + (k / 4) * (Math.log10(yMax) - Math.log10(yMin))) : (yMax * k) / 4;
      const y = sy(v);
      out.push(`<line x1="${left}" x2="${left + W}" y1="${y}" y2="${y}" stroke="#eee"/><text x="${left - 5}" y="${y + 4}" text-anchor="end">${+v.toPrecision(3)}</text>`);
    }
    for (const b of bands) {
      const x1 = sx(b.x1), x2 = sx(b.x2);
      out.push(`<rect x="${x1}" y="${y0}" width="${Math.max(1, x2 - x1)}" height="${ph}" fill="${b.color ?? '#fdd'}" fill-opacity="0.5"/>`);
      if (i === 0) out.push(`<text x="${x1 + 3}" y="${y0 + ph - 4}" fill="#900">${esc(b.label)}</text>`);
    }
    markers.forEach((m, k) => {
      const x = sx(m.x);
      out.push(`<line x1="${x}" x2="${x}" y1="${y0}" y2="${y0 + ph}" stroke="${m.color ?? '#c00'}" stroke-dasharray="4 3"/>`);
      // Staggered labels: breaker transitions come in quick succession.
      if (i === 0) out.push(`<text x="${x + 3}" y="${y0 + 12 + (k % 6) * 12}" fill="${m.color ?? '#c00'}">${esc(m.label)}</text>`);
    });
    p.series.forEach((s, j) => {
      if (s.points.length === 0) return;
      const d = s.points.map((q, k) => `${k ? 'L' : 'M'}${sx(q[0]).toFixed(1)},${sy(q[1]).toFixed(1)}`).join('');
      out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`);
      out.push(`<rect x="${left + W - 150}" y="${y0 + 8 + j * 14}" width="10" height="3" fill="${s.color}"/><text x="${left + W - 135}" y="${y0 + 13 + j * 14}">${esc(s.name)}</text>`);
    });
    if (i === panels.length - 1) {
      for (let k = 0; k <= 10; k++) {
        const x = xMin + ((xMax - xMin) * k) / 10;
        out.push(`<text x="${sx(x)}" y="${y0 + ph + 14}" text-anchor="middle">${+x.toPrecision(3)}</text>`);
      }
      out.push(`<text x="${left + W / 2}" y="${y0 + ph + 30}" text-anchor="middle">${esc(xLabel)}</text>`);
    }
  });
  out.push('</svg>');
  return out.join('\n');
}
