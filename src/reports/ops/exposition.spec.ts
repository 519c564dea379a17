import { histogramFromCounts, renderFamilies } from './exposition';
import { historySeconds } from './ops.service';

describe(renderFamilies.name, () => {
  it('writes HELP, TYPE and samples, escaping label values and help text', () => {
    const text = renderFamilies([
      { name: 'ledger_x', help: 'a \\ b\nc', type: 'gauge', samples: [{ labels: { site: 'a"b\\c\nd' }, value: 1.5 }, { labels: {}, value: Infinity }] },
    ]);
    expect(text).toBe('# HELP ledger_x a \\\\ b\\nc\n# TYPE ledger_x gauge\nledger_x{site="a\\"b\\\\c\\nd"} 1.5\nledger_x +Inf\n');
  });

  it('writes nothing for no families', () => {
    expect(renderFamilies([])).toBe('');
  });
});

describe(histogramFromCounts.name, () => {
  it('renders every bucket (0 where no row), +Inf, _sum and _count per label set', () => {
    const family = histogramFromCounts('h', 'help', [0.1, 1], [
      { metric: 'h_bucket', labels: { le: '1' }, value: 2 },
      { metric: 'h_bucket', labels: { le: '+Inf' }, value: 3 },
      { metric: 'h_sum', labels: {}, value: 4.5 },
      { metric: 'h_count', labels: {}, value: 3 },
      { metric: 'other', labels: {}, value: 9 },
    ]);
    expect(family.samples).toEqual([
      { name: 'h_bucket', labels: { le: '0.1' }, value: 0 },
      { name: 'h_bucket', labels: { le: '1' }, value: 2 },
      { name: 'h_bucket', labels: { le: '+Inf' }, value: 3 },
      { name: 'h_sum', labels: {}, value: 4.5 },
      { name: 'h_count', labels: {}, value: 3 },
    ]);
  });
});

describe(historySeconds.name, () => {
  it('reads <n>m, <n>h and <n>d up to 7 days', () => {
    expect(historySeconds('15m')).toBe(900);
    expect(historySeconds('2h')).toBe(7200);
    expect(historySeconds('7d')).toBe(604800);
    expect(historySeconds('168h')).toBe(604800);
  });

  it.each(['8d', '169h', '0m', '1w', 'm', ' 1h', '1H'])('refuses %p naming history', (value) => {
    expect(() => historySeconds(value)).toThrow(/^history: /);
  });
});
