import { NormalizedRecord, UsageType } from './usage-validation';

/**
 * The form of an accepted record in amie_usage_batch.records (docs/amie-usage.md,
 * "Processing"). `n`, `r` and `i` are always there (the budget queries and the
 * loader's key order read them). Each other field of NormalizedRecord is left
 * out when the record as received already holds it: its source field below
 * is a string equal to the normalised value (the usual record: identifiers,
 * a canonical charge, UTC date-times with milliseconds), or it has no source
 * for the record's type and the value is null. The reader takes a left-out
 * field from the record itself (`d`, or the message text's `Records[n]`).
 * So a typical record stores about 40 bytes instead of 150, and the API's
 * JSON.stringify and the bytes sent to PostgreSQL shrink with it (issue 14).
 * A row written before this form holds every key, and reads as before.
 */
type Derived = 'p' | 'u' | 'c' | 'a' | 's' | 'e';

/** A record as a batch stores it: `n`, `r`, `i`, the derived fields the record does not give, and `d` when no message text is kept. */
export type StoredRecord = Pick<NormalizedRecord, 'n' | 'r' | 'i'> & Partial<Pick<NormalizedRecord, Derived | 'd'>>;

/** Where each derived field comes from in a record of each type; null: the field is null for that type. */
export const STORED_SOURCES: Record<Derived, Record<UsageType, string | null>> = {
  p: { Compute: 'LocalProjectID', Storage: 'LocalProjectID', Adjustment: 'LocalProjectID' },
  u: { Compute: 'Username', Storage: 'Username', Adjustment: 'Username' },
  c: { Compute: 'Charge', Storage: 'Charge', Adjustment: 'Charge' },
  a: { Compute: null, Storage: null, Adjustment: 'AdjustmentType' },
  s: { Compute: 'StartTime', Storage: 'CollectionTime', Adjustment: 'StartTime' },
  e: { Compute: 'EndTime', Storage: 'CollectionTime', Adjustment: null },
};

const DERIVED = Object.keys(STORED_SOURCES) as Derived[];

/** Per type, each derived field with its source (one array walked per record, instead of two lookups per field). */
const sourcesOf = (type: UsageType) => DERIVED.map((key) => [key, STORED_SOURCES[key][type]] as const);
const SOURCES_OF: Record<UsageType, readonly (readonly [Derived, string | null])[]> = {
  Compute: sourcesOf('Compute'),
  Storage: sourcesOf('Storage'),
  Adjustment: sourcesOf('Adjustment'),
};

/** The stored form of an accepted record; with `withRecord`, it carries the record itself as `d` (no message text is kept). */
export function storedForm(type: UsageType, record: NormalizedRecord, withRecord: boolean): StoredRecord {
  const stored: StoredRecord = { n: record.n, r: record.r, i: record.i };
  const raw = record.d;
  for (const [key, source] of SOURCES_OF[type]) {
    const value = record[key];
    // Left out when the record gives the same value: its source is a string equal to it, or the type has no source and it is null.
    if (source === null ? value !== null : value === null || raw[source] !== value) (stored as Record<Derived, string | null>)[key] = value;
  }
  if (withRecord) stored.d = raw;
  return stored;
}

/** A stored record read back (`raw`: the record as received), every field filled in. */
export function expandStored(type: UsageType, stored: StoredRecord, raw: Record<string, unknown>): NormalizedRecord {
  const record = { ...stored, d: raw } as NormalizedRecord;
  for (const [key, source] of SOURCES_OF[type]) {
    if (!(key in stored)) (record as Record<Derived, string | null>)[key] = source === null ? null : (raw[source] as string);
  }
  return record;
}

/**
 * SQL for a derived field of a stored record `e` (jsonb) whose record as
 * received is `m` (jsonb) in a batch of type `usageType` (a text column):
 * the stored value when present, else the record's source field.
 */
export function storedFieldSql(key: Derived, e: string, m: string, usageType: string): string {
  const sources = Object.entries(STORED_SOURCES[key]).filter(([, source]) => source !== null);
  const fromRecord = sources.map(([type, source]) => ` WHEN ${usageType} = '${type}' THEN ${m}->>'${source}'`).join('');
  return `CASE WHEN ${e} ? '${key}' THEN ${e}->>'${key}'${fromRecord} END`;
}
