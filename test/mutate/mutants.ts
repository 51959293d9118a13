// Mutant generation without an AST: small, line-local edits on the source text
// (operator swaps, boundary shifts, constant changes, negation and statement
// removal) at positions outside strings and comments. Type-only lines
// (interfaces, type aliases, imports) are skipped: TypeScript type stripping
// erases them, so a mutant there could never change behaviour.

export interface Mutant {
  /** 1-based line number in the original file. */
  line: number;
  /** 0-based column of the edit. */
  col: number;
  mutator: string;
  original: string;
  replacement: string;
  /** The whole line before and after, for the report and the equivalence list. */
  before: string;
  after: string;
  /** The previous line, trimmed: tells apart identical lines in the equivalence list. */
  prev: string;
}

/**
 * Blanks string literals, template literal text, regex-free trailing `//`
 * comments and block comments with spaces, keeping columns. Carries block
 * comment and template state across lines.
 */
export function maskLines(lines: string[]): string[] {
  const out: string[] = [];
  let inBlock = false;
  let inTemplate = false;
  for (const line of lines) {
    let m = '';
    let i = 0;
    let quote: string | null = null;
    while (i < line.length) {
      const c = line[i]!;
      const next = line[i + 1];
      if (inBlock) {
        if (c === '*' && next === '/') { inBlock = false; m += '  '; i += 2; continue; }
        m += ' '; i++; continue;
      }
      if (inTemplate) {
        if (c === '\\') { m += '  '; i += 2; continue; }
        if (c === '`') { inTemplate = false; m += '`'; i++; continue; }
        // ${...} inside a template is code, but mutating it is rarely useful: blank it too.
        m += ' '; i++; continue;
      }
      if (quote) {
        if (c === '\\') { m += '  '; i += 2; continue; }
        if (c === quote) { quote = null; m += c; i++; continue; }
        m += ' '; i++; continue;
      }
      if (c === '/' && next === '/') { m += ' '.repeat(line.length - i); break; }
      if (c === '/' && next === '*') { inBlock = true; m += '  '; i += 2; continue; }
      if (c === "'" || c === '"') { quote = c; m += c; i++; continue; }
      if (c === '`') { inTemplate = true; m += c; i++; continue; }
      // A regex literal (after one of these, `/` starts a regex, not a division): blank to its end.
      if (c === '/' && /[(,=:[!&|?{};]\s*$|^\s*$|return\s*$/.test(line.slice(0, i))) {
        let j = i + 1;
        let cls = false;
        while (j < line.length) {
          const d = line[j]!;
          if (d === '\\') { j += 2; continue; }
          if (d === '[') cls = true;
          else if (d === ']') cls = false;
          else if (d === '/' && !cls) break;
          j++;
        }
        j++;
        while (j < line.length && /[a-z]/.test(line[j]!)) j++;
        m += ' '.repeat(Math.min(j, line.length) - i);
        i = j;
        continue;
      }
      m += c;
      i++;
    }
    out.push(m);
  }
  return out;
}

/** Lines that belong to type-only constructs (interface/type bodies, imports, overload signatures). */
export function typeOnlyLines(lines: string[], masked: string[]): Set<number> {
  const skip = new Set<number>();
  let depth = 0;
  let inType = false;
  let typeDepth = 0;
  for (let i = 0; i < lines.length; i++) {
    const t = masked[i]!.trim();
    if (!inType && /^(export\s+)?(declare\s+)?(interface|type)\s/.test(t)) {
      inType = true;
      typeDepth = depth;
    }
    if (!inType && /^(import|export\s+(type\s+)?\{.*\}\s+from|export\s+\*)/.test(t)) skip.add(i);
    for (const ch of masked[i]!) {
      if (ch === '{' || ch === '(' || ch === '[') depth++;
      else if (ch === '}' || ch === ')' || ch === ']') depth--;
    }
    if (inType) {
      skip.add(i);
      if (depth <= typeDepth && /[;}]\s*$|^\s*type\s.*=.*[^=>|&,]$/.test(masked[i]!.trimEnd())) inType = false;
    }
  }
  return skip;
}

interface Rule { mutator: string; re: RegExp; to: (m: string) => string | string[] }

// Comparisons and arithmetic are only mutated with spaces around them (the
// project's style), which keeps generics (`Map<K, V>`) and arrows (`=>`) out.
const rules: Rule[] = [
  { mutator: 'equality', re: / === /g, to: () => ' !== ' },
  { mutator: 'equality', re: / !== /g, to: () => ' === ' },
  { mutator: 'boundary', re: / <= /g, to: () => ' < ' },
  { mutator: 'boundary', re: / >= /g, to: () => ' > ' },
  { mutator: 'boundary', re: / < /g, to: () => ' <= ' },
  { mutator: 'boundary', re: / > /g, to: () => ' >= ' },
  { mutator: 'relational', re: / < /g, to: () => ' >= ' },
  { mutator: 'relational', re: / > /g, to: () => ' <= ' },
  { mutator: 'logical', re: / && /g, to: () => ' || ' },
  { mutator: 'logical', re: / \|\| /g, to: () => ' && ' },
  { mutator: 'nullish', re: / \?\? /g, to: () => ' && ' },
  { mutator: 'arithmetic', re: / \+ /g, to: () => ' - ' },
  { mutator: 'arithmetic', re: / - /g, to: () => ' + ' },
  { mutator: 'arithmetic', re: / \* /g, to: () => ' / ' },
  { mutator: 'arithmetic', re: / \/ /g, to: () => ' * ' },
  { mutator: 'arithmetic', re: / % /g, to: () => ' * ' },
  { mutator: 'assignment', re: / \+= /g, to: () => ' -= ' },
  { mutator: 'assignment', re: / -= /g, to: () => ' += ' },
  { mutator: 'update', re: /\+\+/g, to: () => '--' },
  { mutator: 'update', re: /--/g, to: () => '++' },
  { mutator: 'boolean', re: /\btrue\b/g, to: () => 'false' },
  { mutator: 'boolean', re: /\bfalse\b/g, to: () => 'true' },
  // Prefix `!` only: a postfix `x!` / `x[i]!.y` is TypeScript's non-null assertion, erased at run time.
  { mutator: 'negation', re: /(?<![\w\])$])!(?=[\w(.])/g, to: () => '' },
  // Integer constants: one up (0 -> 1, n -> n+1). Not inside identifiers, not hex, not part of a float.
  { mutator: 'constant', re: /(?<![\w.$])\d[\d_]*(?![\w.])/g, to: (m) => String(Number(m.replace(/_/g, '')) + 1) },
];

const NOT_A_STATEMENT = /^(const|let|var|return|throw|import|export|type|interface|readonly|private|public|protected|static|async|function|class|if|else|for|while|do|switch|case|default|break|continue|try|catch|finally|get |set |constructor|[})\]]|\.|\?|:|&&|\|\|)/;

/** A line that is one whole expression statement (a call, an assignment, an increment), safe to replace by `;`. */
function removableStatement(masked: string, prevMasked: string): boolean {
  const t = masked.trim();
  if (!t.endsWith(';') || NOT_A_STATEMENT.test(t)) return false;
  // A continuation of the previous line (an argument list, a ternary, a chained call).
  const p = prevMasked.trimEnd();
  if (p !== '' && !/[;{}]$/.test(p) && !/^\s*(if|else|for|while)\b.*\)$/.test(p) && !/^\s*else$/.test(p)) return false;
  let d = 0;
  for (const ch of t) {
    if (ch === '(' || ch === '[' || ch === '{') d++;
    else if (ch === ')' || ch === ']' || ch === '}') d--;
    if (d < 0) return false;
  }
  if (d !== 0) return false;
  // A class field with only a type (`private x: number;`) has no runtime effect.
  if (/^[\w$]+[?!]?\s*:[^=]*;$/.test(t)) return false;
  return /[=(]|\+\+|--/.test(t);
}

export function generateMutants(source: string): Mutant[] {
  const lines = source.split('\n');
  const masked = maskLines(lines);
  const skip = typeOnlyLines(lines, masked);
  const out: Mutant[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (skip.has(i)) continue;
    const line = lines[i]!;
    const m = masked[i]!;
    if (m.trim() === '') continue;
    for (const r of rules) {
      r.re.lastIndex = 0;
      for (let hit = r.re.exec(m); hit; hit = r.re.exec(m)) {
        const col = hit.index;
        const orig = hit[0];
        if (r.mutator === 'negation' && m[col + 1] === '=') continue;
        const tos = r.to(orig);
        for (const to of Array.isArray(tos) ? tos : [tos]) {
          const after = line.slice(0, col) + to + line.slice(col + orig.length);
          out.push({ line: i + 1, col, mutator: r.mutator, original: orig.trim() || orig, replacement: to.trim() || to, before: line, after, prev: i > 0 ? lines[i - 1]!.trim() : '' });
        }
      }
    }
    if (removableStatement(m, i > 0 ? masked[i - 1]! : '')) {
      const indent = /^\s*/.exec(line)![0];
      out.push({ line: i + 1, col: indent.length, mutator: 'statement', original: line.trim(), replacement: ';', before: line, after: `${indent};`, prev: i > 0 ? lines[i - 1]!.trim() : '' });
    }
  }
  return out;
}

/** The file text with one mutant applied. */
export function applyMutant(source: string, m: Mutant): string {
  const lines = source.split('\n');
  if (lines[m.line - 1] !== m.before) throw new Error(`line ${m.line} changed since the mutants were generated`);
  lines[m.line - 1] = m.after;
  return lines.join('\n');
}
