import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { parsePrometheusText } from '../support/prometheus-text';
import { useTestApp } from '../support/test-app';

/**
 * deploy/: the Prometheus alert rules and the Grafana dashboard (issue 12).
 * promtool is not installed here, so the rules file is read as YAML and
 * checked for Prometheus' rule-file shape; every `ledger_*` metric that the
 * rules and the dashboard name must be a series `/metrics` exposes.
 * (js-yaml is the YAML parser @nestjs/swagger already depends on.)
 */
const ROOT = join(__dirname, '..', '..', 'deploy');

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

describe('deploy/ monitoring files', () => {
  const t = useTestApp();
  const rules = load(readFileSync(join(ROOT, 'prometheus', 'usage-ledger-alerts.yml'), 'utf8')) as { groups: { name: string; rules: Rule[] }[] };
  const dashboard = JSON.parse(readFileSync(join(ROOT, 'grafana', 'usage-ledger-dashboard.json'), 'utf8'));
  const dashboardExprs: string[] = dashboard.panels.flatMap((p: { targets?: { expr: string }[] }) => (p.targets ?? []).map((x) => x.expr));
  const metricNames = (expr: string) => [...expr.matchAll(/\b(ledger_[a-z0-9_]+)\b/g)].map((m) => m[1]);

  /** Every series name the exposition can hold: families, and histogram families' _bucket/_sum/_count. */
  async function exposed(): Promise<Set<string>> {
    const res = await t.http.get('/metrics').expect(200);
    const names = new Set<string>();
    for (const family of parsePrometheusText(res.text).values()) {
      names.add(family.name);
      if (family.type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(family.name + s);
    }
    return names;
  }

  it('the rules file has the shape of a Prometheus rule file, with the four alerts of issue 12', () => {
    expect(Array.isArray(rules.groups)).toBe(true);
    const alerts = rules.groups.flatMap((g) => {
      expect(g.name).toEqual(expect.any(String));
      return g.rules;
    });
    for (const rule of alerts) {
      expect(Object.keys(rule).every((k) => ['alert', 'record', 'expr', 'for', 'labels', 'annotations', 'keep_firing_for'].includes(k))).toBe(true);
      expect(rule.alert).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
      expect(rule.expr).toEqual(expect.any(String));
      if (rule.for !== undefined) expect(rule.for).toMatch(/^\d+[smhdwy]$/);
      expect(rule.labels?.severity).toEqual(expect.any(String));
      expect(rule.annotations?.summary).toEqual(expect.any(String));
      expect(balanced(rule.expr)).toBe(true);
    }
    const byName = new Map(alerts.map((r) => [r.alert, r.expr]));
    expect(byName.get('UsageLedgerSourceSilent')).toContain('ledger_source_silent');
    expect(byName.get('UsageLedgerRollupLag')).toContain('ledger_rollup_lag_seconds');
    expect(byName.get('UsageLedgerAmieFailedRecordsGrowing')).toContain('ledger_amie_failed_records');
    expect(byName.get('UsageLedgerQueueBacklog')).toContain('ledger_queue_');
  });

  it('the dashboard is importable JSON: a data-source input, unique panel ids, a query per panel', () => {
    expect(dashboard.__inputs).toEqual([expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' })]);
    expect(dashboard.uid).toEqual(expect.any(String));
    const ids = dashboard.panels.map((p: { id: number }) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels.filter((p: { type: string }) => p.type !== 'row')) {
      expect(panel.targets.length).toBeGreaterThan(0);
      expect(panel.datasource).toEqual({ type: 'prometheus', uid: '${DS_PROMETHEUS}' });
    }
    for (const expr of dashboardExprs) expect(balanced(expr)).toBe(true);
  });

  it('the rules and the dashboard name only metrics that /metrics exposes', async () => {
    const names = await exposed();
    const used = new Set([...rules.groups.flatMap((g) => g.rules.flatMap((r) => metricNames(r.expr))), ...dashboardExprs.flatMap(metricNames)]);
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((name) => !names.has(name))).toEqual([]);
  });
});

/** Parentheses, brackets and braces nest properly (a cheap stand-in for promtool's parser). */
function balanced(expr: string): boolean {
  const stack: string[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  let quoted = false;
  for (const c of expr) {
    if (c === '"') quoted = !quoted;
    if (quoted) continue;
    if ('([{'.includes(c)) stack.push(c);
    else if (c in pairs && stack.pop() !== pairs[c]) return false;
  }
  return stack.length === 0 && !quoted;
}
