/**
 * The Prometheus text exposition (format 0.0.4) of the series `/metrics`
 * computes at scrape time from PostgreSQL (reports.md §9.1). The
 * per-process series come from prom-client's own registry; these are
 * appended after them.
 */
export interface MetricFamily {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  /** `name` is the sample's full name when it differs from the family's (`_bucket`, `_sum`, `_count`). */
  samples: { name?: string; labels: Record<string, string>; value: number }[];
}

export function renderFamilies(families: MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${family.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) lines.push(`${sample.name ?? family.name}${labelText(sample.labels)} ${numberText(sample.value)}`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

function labelText(labels: Record<string, string>): string {
  const entries = Object.entries(labels);
  if (!entries.length) return '';
  return `{${entries.map(([k, v]) => `${k}="${String(v).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`).join(',')}}`;
}

function numberText(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/**
 * A histogram stored as `_bucket` (cumulative, label `le`), `_sum` and
 * `_count` rows of report_metric_counts, rendered with every bucket of
 * `buckets` (a bucket no observation reached has no row: 0).
 */
export function histogramFromCounts(
  name: string,
  help: string,
  buckets: readonly number[],
  rows: { metric: string; labels: Record<string, string>; value: number }[],
): MetricFamily {
  const mine = rows.filter((r) => r.metric === `${name}_bucket` || r.metric === `${name}_sum` || r.metric === `${name}_count`);
  const groups = new Map<string, Record<string, string>>();
  for (const row of mine) {
    const { le: _le, ...labels } = row.labels;
    groups.set(JSON.stringify(Object.entries(labels).sort()), labels);
  }
  const samples: MetricFamily['samples'] = [];
  for (const [key, labels] of groups) {
    const same = (r: (typeof mine)[number]) => {
      const { le: _le, ...rest } = r.labels;
      return JSON.stringify(Object.entries(rest).sort()) === key;
    };
    const value = (metric: string, le?: string) => mine.find((r) => r.metric === metric && same(r) && (le === undefined || r.labels.le === le))?.value ?? 0;
    for (const le of [...buckets.map(String), '+Inf']) samples.push({ name: `${name}_bucket`, labels: { ...labels, le }, value: value(`${name}_bucket`, le) });
    samples.push({ name: `${name}_sum`, labels, value: value(`${name}_sum`) });
    samples.push({ name: `${name}_count`, labels, value: value(`${name}_count`) });
  }
  return { name, help, type: 'histogram', samples };
}
