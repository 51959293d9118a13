// redact: mask secrets and personal data in the body and string attributes
// before they leave the node. Built-in rules: email, bearer (Authorization
// tokens), ipv4, ipv6, credit_card (13-19 digits passing the Luhn check, so
// order ids and timestamps are left alone), plus user rules {name, pattern,
// replacement}. Each masked value is counted in
// edgelog_transform_redactions_total{component, rule}.
//
// Hot path: a rule's regex runs only when a native prefilter says the line
// may hold a match: '@' for emails, 'earer' for tokens, '.' for IPv4, '::'
// or 5 hex:hex pairs for IPv6 (the IPv6 regex on every line: 108K lines/s;
// behind the prefilter: 2.5M). Cards have none: a JS digit-run prefilter
// (800K lines/s on its own) cost more than the card regex it guarded
// (470K lines/s on every line). Numbers: 200-byte JSON lines, best of 5,
// one rule at a time, see also bench/results/stages.md.
// Each rule's replacer is a method bound once at construction.

import type { ComponentContext, ComponentSpec, Processor } from '../core/component.ts';
import type { LogRecord } from '../core/record.ts';
import { ConfigError } from '../core/errors.ts';
import { join, readString, readStringList, type Raw } from '../config/schema.ts';
import { choice, derivedDefault, field, type Infer, listOf, optText, requiredText, section, declaredComponent } from '../config/declare.ts';
import { StageStats } from './metrics.ts';

const BUILTIN = ['email', 'bearer', 'ipv4', 'ipv6', 'credit_card'] as const;

/** A user rule: JavaScript regex (applied with the g flag) and its replacement ($1 etc. allowed). */
const customRuleSection = section({
  name: requiredText('name', 'rule name (metric label, default replacement)'),
  pattern: field('pattern', 'regex', '', '(required)', 'what to mask', (m: Raw, p: string) => {
    const pattern = readString(m, 'pattern', p);
    try { new RegExp(pattern, 'g'); } catch (e) { throw new ConfigError(join(p, 'pattern'), `a valid regular expression (${(e as Error).message})`, pattern); }
    return pattern;
  }),
  replacement: derivedDefault(optText('replacement', 'replacement text; `$1`.. expand groups'), '`[<name>]`'),
}, (r) => {
  if (r.replacement === undefined) r.replacement = `[${r.name}]`;
});
export interface CustomRule { name: string; pattern: string; replacement: string }

/** The stage's keys, declared once (agent/config/declare.ts). */
export const redactSection = section({
  // All built-ins on: an edge node usually cannot know which of them its
  // devices leak; masking an IP that was harmless costs less than shipping a card number.
  /** Built-in rules to apply: email, bearer, ipv4, ipv6, credit_card. */
  rules: field<string[]>('rules', `list of ${BUILTIN.map((b) => `\`${b}\``).join(', ')}`, [...BUILTIN], `\`[${BUILTIN.join(', ')}]\``, 'built-in masks (cards Luhn-checked)', (m: Raw, path: string) => {
    const rules = readStringList(m, 'rules', path, [...BUILTIN]);
    rules.forEach((r, i) => { if (!(BUILTIN as readonly string[]).includes(r)) throw new ConfigError(join(join(path, 'rules'), i), `one of ${BUILTIN.join(', ')}`, r); });
    return rules;
  }),
  custom: listOf<CustomRule[]>('custom', customRuleSection, 'list of rules', '`[]`', 'user masks', readCustom, []),
  /** Where to look. */
  apply_to: choice('apply_to', ['body', 'attributes', 'both'], 'both', 'where masks apply'),
});
export type RedactConfig = Infer<typeof redactSection>;
export const redactDefaults: RedactConfig = redactSection.defaults;

const H = '[0-9A-Fa-f]{1,4}';
const IPV4 = String.raw`(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}`;
const IPV6 = [
  `(?:${H}:){7}${H}`, `(?:${H}:){1,7}:`, `(?:${H}:){1,6}:${H}`, `(?:${H}:){1,5}(?::${H}){1,2}`,
  `(?:${H}:){1,4}(?::${H}){1,3}`, `(?:${H}:){1,3}(?::${H}){1,4}`, `(?:${H}:){1,2}(?::${H}){1,5}`,
  `${H}:(?::${H}){1,6}`, `:(?::${H}){1,7}`,
].join('|');

interface Builtin { pattern: string; replacement: string; prefilter: ((s: string) => boolean) | null; luhn?: boolean }


const isHex = (c: number) => (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 102);
/** At least `want` ':' with a hex digit on both sides (a full IPv6 address has 7; JSON's "k":"v" has none; a time 12:00:00 has 2). */
function hexColons(s: string, want: number): boolean {
  let n = 0;
  for (let i = s.indexOf(':', 1); i > 0 && i < s.length - 1; i = s.indexOf(':', i + 1)) {
    if (isHex(s.charCodeAt(i - 1)) && isHex(s.charCodeAt(i + 1)) && ++n >= want) return true;
  }
  return false;
}

const EMAIL_SRC = String.raw`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`;
const EMAIL_EXACT = new RegExp(`^${EMAIL_SRC}$`);
function isLocal(c: number): boolean { return (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 122) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45; }
function isDomain(c: number): boolean { return (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 122) || c === 46 || c === 45; }

const builtins: Record<(typeof BUILTIN)[number], Builtin> = {
  email: { pattern: EMAIL_SRC, replacement: '[email]', prefilter: (b) => b.indexOf('@') >= 0 },
  bearer: { pattern: String.raw`\b([Bb]earer)\s+[A-Za-z0-9\-._~+/]+=*`, replacement: '$1 [token]', prefilter: (b) => b.indexOf('earer') >= 0 },
  ipv4: { pattern: String.raw`(?<![\d.])${IPV4}(?![\d.]*\d)`, replacement: '[ipv4]', prefilter: (b) => b.indexOf('.') >= 0 },
  ipv6: { pattern: String.raw`(?<![\w:])(?:${IPV6})(?![\w:])`, replacement: '[ipv6]', prefilter: (b) => b.indexOf('::') >= 0 || hexColons(b, 5) },
  credit_card: { pattern: String.raw`(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)`, replacement: '[card]', prefilter: null, luhn: true },
};

/** Luhn checksum over the digits of `s` (separators ignored). */
export function luhn(s: string): boolean {
  let sum = 0, dbl = false, n = 0;
  for (let i = s.length - 1; i >= 0; i--) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) continue;
    n++;
    let d = c;
    if (dbl) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
    dbl = !dbl;
  }
  return n >= 13 && n <= 19 && sum % 10 === 0;
}

class Rule {
  readonly name: string;
  readonly re: RegExp;
  private readonly replacement: string;
  private readonly prefilter: ((s: string) => boolean) | null;
  private readonly checkLuhn: boolean;
  private readonly atAnchored: boolean;
  hits = 0;
  /** Bound once; String.replace calls it per match. */
  readonly replacer: (m: string, ...groups: unknown[]) => string;
  constructor(name: string, pattern: string, replacement: string, prefilter: ((s: string) => boolean) | null, checkLuhn = false, atAnchored = false) {
    this.name = name;
    this.re = new RegExp(pattern, 'g');
    this.replacement = replacement;
    this.prefilter = prefilter;
    this.checkLuhn = checkLuhn;
    this.atAnchored = atAnchored;
    this.replacer = this.replace.bind(this);
  }
  mayMatch(s: string): boolean { return this.prefilter === null || this.prefilter(s); }
  private replace(m: string, ...rest: unknown[]): string {
    if (this.checkLuhn && !luhn(m)) return m;
    this.hits++;
    if (this.replacement.indexOf('$') < 0) return this.replacement;
    // Expand $1..$9 from the captured groups (String.replace does not when a function is used).
    return this.replacement.replace(/\$(\d)/g, (_x, d: string) => { const g = rest[Number(d) - 1]; return typeof g === 'string' ? g : ''; });
  }
  apply(s: string): string {
    if (this.atAnchored) return this.applyAt(s);
    this.re.lastIndex = 0;
    return s.replace(this.re, this.replacer);
  }
  /**
   * Email: scanning the whole line with the regex tries every start position
   * of every word (87K lines/s on 200-byte JSON lines); growing the match out
   * from each '@' and checking it with an anchored regex does the same job at
   * 3.0M lines/s (best of 5, bench of the email rule alone).
   */
  private applyAt(s: string): string {
    let at = s.indexOf('@');
    if (at < 0) return s;
    let out = '';
    let last = 0;
    while (at >= 0) {
      let a = at;
      while (a > last && isLocal(s.charCodeAt(a - 1))) a--;
      let b = at + 1;
      while (b < s.length && isDomain(s.charCodeAt(b))) b++;
      // A trailing '.' or '-' belongs to the sentence, not the domain.
      while (b > at + 1 && (s.charCodeAt(b - 1) === 46 || s.charCodeAt(b - 1) === 45)) b--;
      const cand = s.slice(a, b);
      if (a < at && EMAIL_EXACT.test(cand)) {
        out += s.slice(last, a) + this.replacement;
        this.hits++;
        last = b;
      }
      at = s.indexOf('@', Math.max(at + 1, last));
    }
    return last === 0 ? s : out + s.slice(last);
  }
}

export class Redact implements Processor {
  private readonly rules: Rule[];
  private readonly body: boolean;
  private readonly attrs: boolean;
  private readonly stats: StageStats;
  constructor(cfg: RedactConfig, ctx: ComponentContext) {
    this.rules = [
      ...cfg.rules.map((n) => { const b = builtins[n as (typeof BUILTIN)[number]]; return new Rule(n, b.pattern, b.replacement, b.prefilter, b.luhn, n === 'email'); }),
      ...cfg.custom.map((c) => new Rule(c.name, c.pattern, c.replacement, null)),
    ];
    this.body = cfg.apply_to !== 'attributes';
    this.attrs = cfg.apply_to !== 'body';
    this.stats = new StageStats(ctx);
  }

  /** Mask a string; returns the same string object when nothing matched. */
  redactString(s: string): string {
    let out = s;
    for (let i = 0; i < this.rules.length; i++) {
      const r = this.rules[i]!;
      if (r.mayMatch(out)) out = r.apply(out);
    }
    return out;
  }

  process(batch: LogRecord[], out: LogRecord[]): void {
    const rules = this.rules;
    for (let r = 0; r < batch.length; r++) {
      const rec = batch[r]!;
      if (this.body) {
        const before = this.hitsTotal();
        const str = this.redactString(rec.body.toString('utf8'));
        if (this.hitsTotal() !== before) rec.body = Buffer.from(str, 'utf8');
      }
      if (this.attrs && rec.attributes !== null) {
        const a = rec.attributes;
        for (const k in a) {
          const v = a[k];
          if (typeof v === 'string' && v.length > 0) {
            const nv = this.redactString(v);
            if (nv !== v) a[k] = nv;
          }
        }
      }
      out.push(rec);
    }
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!;
      if (rule.hits) { this.stats.redacted(rule.name, rule.hits); rule.hits = 0; }
    }
  }

  private hitsTotal(): number {
    let n = 0;
    for (let i = 0; i < this.rules.length; i++) n += this.rules[i]!.hits;
    return n;
  }
}

function readCustom(raw: unknown, path: string): CustomRule[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new ConfigError(path, 'a list of {name, pattern, replacement}', raw);
  return raw.map((r, i) => customRuleSection.read(r, join(path, i)) as CustomRule);
}

export const redact: ComponentSpec<RedactConfig, Processor> = declaredComponent(redactSection, {
  kind: 'processor',
  type: 'redact',
  summary: 'Mask emails, bearer tokens, IPv4/IPv6 addresses, card numbers (Luhn-checked) and user patterns in body and attributes; counts masks per rule.',
  create(cfg, ctx) { return new Redact(cfg, ctx); },
});
