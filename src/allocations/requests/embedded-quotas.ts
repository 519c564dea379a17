/*
 * The allocation's embedded `quotas` (allocations.md 7), shared by the
 * allocation view and the quota link (§10). Pure: no SQL, no HTTP, so the
 * worker can import it.
 */

export interface QuotaRow {
  allocation: number;
  resource: number;
  zone: string;
  quota: number;
}

export interface EmbeddedQuota {
  zone: string;
  resource: string;
  quota: number;
}

export interface BundleOf {
  zone: string;
  su_per_year: number;
}

/**
 * Bundle entries plus `rating.budget`, replaced or extended by the
 * allocation's own quota rows (in id order); `resource` is the codename
 * `<service type>.<quota name>`.
 */
export function embeddedQuotas(
  allocation: { estimated_project_duration: number },
  bundle: BundleOf | undefined,
  quotas: readonly QuotaRow[],
  codenames: ReadonlyMap<number, string>,
): EmbeddedQuota[] {
  const entries: EmbeddedQuota[] = [];
  if (bundle) {
    // Bundle quotas themselves are not kept yet (allocations.md 8), only the budget.
    entries.push({ zone: bundle.zone, resource: 'rating.budget', quota: Math.floor((bundle.su_per_year / 12) * allocation.estimated_project_duration) });
  }
  for (const q of quotas) {
    const resource = codenames.get(q.resource) ?? String(q.resource);
    const existing = entries.find((e) => e.resource === resource && e.zone === q.zone);
    if (existing) existing.quota = q.quota;
    else entries.push({ zone: q.zone, resource, quota: q.quota });
  }
  return entries;
}
