/**
 * A strict parser of the Prometheus text exposition format 0.0.4, for the
 * `/metrics` tests. No Prometheus text parser is installed (no
 * parse-prometheus-text-format in node_modules, and no new package was
 * added), so this one follows the format's rules itself and throws on any
 * line a Prometheus server would refuse: a sample outside a declared
 * family, a family declared twice, a malformed label set or value, a
 * duplicate series, a histogram without its `+Inf` bucket.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  if (text.length && !text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((line, index) => {
    const at = `line ${index + 1}: ${line}`;
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) return; // a plain comment
      const [, kind, name, rest] = m;
      if (!NAME.test(name)) throw new Error(`bad metric name, ${at}`);
      const family = families.get(name) ?? { name, type: 'untyped' as const, help: '', samples: [] };
      if (kind === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) throw new Error(`bad type, ${at}`);
        if (families.has(name) && families.get(name)!.samples.length) throw new Error(`TYPE after samples, ${at}`);
        if (seen.has(`TYPE ${name}`)) throw new Error(`family declared twice, ${at}`);
        seen.add(`TYPE ${name}`);
        family.type = rest as Family['type'];
      } else {
        if (seen.has(`HELP ${name}`)) throw new Error(`HELP twice, ${at}`);
        seen.add(`HELP ${name}`);
        family.help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      }
      families.set(name, family);
      return;
    }
    const sample = parseSample(line, at);
    const family = familyOf(families, sample.name);
    if (!family) throw new Error(`sample of no declared family, ${at}`);
    const id = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seen.has(id)) throw new Error(`duplicate series, ${at}`);
    seen.add(id);
    family.samples.push(sample);
  });
  for (const family of families.values()) {
    if (family.type !== 'histogram') continue;
    const series = new Set(family.samples.filter((s) => s.name === `${family.name}_count`).map((s) => JSON.stringify(Object.entries(s.labels).sort())));
    for (const key of series) {
      const infinite = family.samples.find((s) => s.name === `${family.name}_bucket` && s.labels.le === '+Inf' && JSON.stringify(Object.entries(withoutLe(s.labels)).sort()) === key);
      if (!infinite) throw new Error(`histogram ${family.name} has no +Inf bucket for ${key}`);
    }
  }
  return families;
}

function withoutLe(labels: Record<string, string>): Record<string, string> {
  const { le: _le, ...rest } = labels;
  return rest;
}

function familyOf(families: Map<string, Family>, sampleName: string): Family | undefined {
  const direct = families.get(sampleName);
  if (direct && direct.type !== 'histogram' && direct.type !== 'summary') return direct;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sampleName.endsWith(suffix)) continue;
    const family = families.get(sampleName.slice(0, -suffix.length));
    if (family && (family.type === 'histogram' || (family.type === 'summary' && suffix !== '_bucket'))) return family;
  }
  if (direct?.type === 'summary') return direct;
  return undefined;
}

function parseSample(line: string, at: string): Sample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
  if (!m) throw new Error(`bad sample name, ${at}`);
  const name = m[1];
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    for (;;) {
      if (line[i] === '}') {
        i++;
        break;
      }
      const ln = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(line.slice(i));
      if (!ln || !LABEL_NAME.test(ln[1])) throw new Error(`bad label, ${at}`);
      i += ln[0].length;
      let value = '';
      for (;;) {
        const c = line[i];
        if (c === undefined) throw new Error(`unterminated label value, ${at}`);
        if (c === '\\') {
          const e = line[i + 1];
          if (e === 'n') value += '\n';
          else if (e === '\\' || e === '"') value += e;
          else throw new Error(`bad escape, ${at}`);
          i += 2;
          continue;
        }
        if (c === '"') {
          i++;
          break;
        }
        value += c;
        i++;
      }
      if (ln[1] in labels) throw new Error(`label twice, ${at}`);
      labels[ln[1]] = value;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') throw new Error(`bad label separator, ${at}`);
    }
  }
  const rest = line.slice(i);
  const v = /^ (\S+)( -?\d+)?$/.exec(rest);
  if (!v) throw new Error(`bad value, ${at}`);
  const raw = v[1];
  // Prometheus reads values with Go's strconv.ParseFloat: NaN and Inf in any case
  // (prom-client writes `Nan` for NaN, e.g. an event-loop percentile before its first sample).
  const special = /^([+-]?)(nan|inf|infinity)$/i.exec(raw);
  const value = special ? (special[2].toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity) : Number(raw);
  if (!special && (raw.trim() === '' || Number.isNaN(value))) throw new Error(`bad number, ${at}`);
  return { name, labels, value };
}

/** The value of one series, or undefined. */
export function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const family of families.values()) {
    const hit = family.samples.find((s) => s.name === name && Object.keys(labels).length === Object.keys(s.labels).length && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    if (hit) return hit.value;
  }
  return undefined;
}
