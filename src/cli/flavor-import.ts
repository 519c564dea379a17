import { CsvSyntaxError, parseCsv } from './csv';

/*
 * What `usage-ledger flavors import` reads, turned into catalogue entries
 * (reports.md 2.4, 3.5). Two vocabularies, told apart per field and matched
 * without regard to case:
 *
 * - what `openstack flavor list --long -f json` (or `-f csv`) prints:
 *   "ID", "Name", "RAM" (MB), "Disk" (GB), "Ephemeral" (GB), "VCPUs",
 *   "Properties" (a JSON object, or the older `key='value', …` text), and
 *   "Is Public", "Swap", "RXTX Factor", which the catalogue has no use for;
 * - the catalogue's own fields: name, aliases, vcpus, ram_mb, disk_gb, gpus,
 *   description (also the `{"flavors": [...]}` of GET /reports/flavors, its
 *   unsized strings skipped, so a catalogue can be copied between services).
 *
 * Mapping of the OpenStack form: the name is the key; the ID becomes an
 * alias when it differs (Almanach stores whichever string Nova sent, 2.4);
 * disk_gb is the root disk, plus Ephemeral with `--add-ephemeral`; gpus is
 * read from the extra specs `resources:VGPU` and `pci_passthrough:alias`
 * (`alias:count`, comma-separated), else left to the entry already stored.
 */

export interface FlavorInput {
  name: string;
  vcpus: number;
  ram_mb: number;
  disk_gb: number;
  /** Aliases the file states outright (catalogue form): they replace the stored ones. */
  aliases?: string[];
  /** Aliases the file implies (OpenStack ID): added to the stored ones. */
  extraAliases: string[];
  gpus?: number;
  description?: string;
}

export type FlavorFileFormat = 'json' | 'csv';

export class FlavorFileError extends Error {}

const INT4_MAX = 2147483647;
const NAME_MAX = 255;
/** Aliases in a CSV cell: separated by `;` (a flavor string may hold a comma or space more likely than a semicolon). */
const ALIAS_SEPARATOR = ';';

type Raw = Record<string, unknown>;

function lookup(raw: Raw, ...names: string[]): unknown {
  for (const name of names) {
    const key = Object.keys(raw).find((k) => k.toLowerCase() === name.toLowerCase());
    if (key !== undefined && raw[key] !== undefined && raw[key] !== null) return raw[key];
  }
  return undefined;
}

/** Characters as reports.md counts them (code points). */
const length = (s: string) => [...s].length;

function wholeNumber(value: unknown, field: string, problems: string[]): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > INT4_MAX) {
    problems.push(`${field} must be a whole number from 0 to ${INT4_MAX}${value === undefined || value === '' ? ' (missing)' : ''}`);
    return undefined;
  }
  return n;
}

/** Extra specs as OpenStack prints them: an object (newer clients) or `key='value', key='value'` (older ones). */
function extraSpecs(value: unknown): Record<string, string> {
  if (value && typeof value === 'object' && !Array.isArray(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
  if (typeof value !== 'string' || !value.trim()) return {};
  const trimmed = value.trim();
  if (trimmed.startsWith('{')) {
    try {
      return extraSpecs(JSON.parse(trimmed));
    } catch {
      return {};
    }
  }
  const specs: Record<string, string> = {};
  for (const match of trimmed.matchAll(/([^=,\s][^=]*?)='((?:[^'\\]|\\.)*)'/g)) specs[match[1].trim()] = match[2];
  return specs;
}

/** GPUs the extra specs ask for; undefined when they say nothing about GPUs. */
export function gpusFromSpecs(specs: Record<string, string>): number | undefined {
  let total: number | undefined;
  const vgpu = specs['resources:VGPU'];
  if (vgpu !== undefined && /^\d+$/.test(vgpu.trim())) total = (total ?? 0) + Number(vgpu);
  const alias = specs['pci_passthrough:alias'];
  if (alias !== undefined) {
    for (const part of alias.split(',').map((p) => p.trim()).filter(Boolean)) {
      const count = part.includes(':') ? part.slice(part.lastIndexOf(':') + 1) : '1';
      if (/^\d+$/.test(count)) total = (total ?? 0) + Number(count);
    }
  }
  return total;
}

function entry(raw: Raw, where: string, options: { addEphemeral: boolean }): { flavor?: FlavorInput; problems: string[] } {
  const problems: string[] = [];
  const nameValue = lookup(raw, 'name');
  const name = typeof nameValue === 'string' ? nameValue : undefined;
  if (name === undefined || length(name) < 1 || length(name) > NAME_MAX) problems.push(`Name must be 1 to ${NAME_MAX} characters`);
  const vcpus = wholeNumber(lookup(raw, 'vcpus'), 'VCPUs', problems);
  const ram = wholeNumber(lookup(raw, 'ram_mb', 'ram'), 'RAM', problems);
  const disk = wholeNumber(lookup(raw, 'disk_gb', 'disk'), 'Disk', problems);
  let ephemeral = 0;
  if (options.addEphemeral) {
    const value = lookup(raw, 'ephemeral');
    ephemeral = value === undefined || value === '' ? 0 : (wholeNumber(value, 'Ephemeral', problems) ?? 0);
  }
  const idValue = lookup(raw, 'id');
  const id = typeof idValue === 'string' || typeof idValue === 'number' ? String(idValue) : undefined;

  let aliases: string[] | undefined;
  const aliasValue = lookup(raw, 'aliases');
  if (aliasValue !== undefined) {
    if (Array.isArray(aliasValue) && aliasValue.every((a) => typeof a === 'string')) aliases = aliasValue as string[];
    else if (typeof aliasValue === 'string') aliases = aliasValue.split(ALIAS_SEPARATOR).map((a) => a.trim()).filter(Boolean);
    else problems.push('aliases must be a list of strings');
  }
  for (const alias of aliases ?? []) if (length(alias) > NAME_MAX) problems.push(`each alias must be 1 to ${NAME_MAX} characters`);

  let gpus: number | undefined;
  const gpuValue = lookup(raw, 'gpus');
  if (gpuValue !== undefined && gpuValue !== '') gpus = wholeNumber(gpuValue, 'gpus', problems);
  else gpus = gpusFromSpecs(extraSpecs(lookup(raw, 'properties')));

  const descriptionValue = lookup(raw, 'description');
  if (descriptionValue !== undefined && typeof descriptionValue !== 'string') problems.push('description must be a string');

  if (problems.length) return { problems: problems.map((p) => `${where}${name ? ` (${name})` : ''}: ${p}`) };
  const disk_gb = disk! + ephemeral;
  if (disk_gb > INT4_MAX) return { problems: [`${where} (${name}): Disk + Ephemeral is more than ${INT4_MAX}`] };
  return {
    problems,
    flavor: {
      name: name!,
      vcpus: vcpus!,
      ram_mb: ram!,
      disk_gb,
      ...(aliases !== undefined ? { aliases: [...new Set(aliases.filter((a) => a !== name))] } : {}),
      extraAliases: id !== undefined && id !== '' && id !== name ? [id] : [],
      ...(gpus !== undefined ? { gpus } : {}),
      ...(typeof descriptionValue === 'string' ? { description: descriptionValue } : {}),
    },
  };
}

function records(text: string, format: FlavorFileFormat): { raw: Raw[]; where: (i: number) => string } {
  if (format === 'csv') {
    let rows: string[][];
    try {
      rows = parseCsv(text);
    } catch (error) {
      if (error instanceof CsvSyntaxError) throw new FlavorFileError(`not CSV: ${error.message}`);
      throw error;
    }
    if (!rows.length) throw new FlavorFileError('the CSV file is empty: it needs a header row (Name, VCPUs, RAM, Disk, … or name, vcpus, ram_mb, disk_gb, …)');
    const [header, ...body] = rows;
    const raw = body.map((row, i) => {
      if (row.length !== header.length) throw new FlavorFileError(`row ${i + 2}: ${row.length} fields where the header has ${header.length}`);
      return Object.fromEntries(header.map((h, j) => [h.trim(), row[j]]));
    });
    return { raw, where: (i) => `row ${i + 2}` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new FlavorFileError(`not JSON: ${(error as Error).message}`);
  }
  let list: unknown = parsed;
  if (parsed && typeof parsed === 'object' && !Array.isArray(parsed) && Array.isArray((parsed as Raw).flavors)) {
    list = ((parsed as Raw).flavors as unknown[]).filter((f) => !(f && typeof f === 'object' && (f as Raw).sized === false));
  }
  if (!Array.isArray(list)) throw new FlavorFileError('the JSON must be a list of flavors (as `openstack flavor list --long -f json` prints it)');
  list.forEach((item, i) => {
    if (!item || typeof item !== 'object' || Array.isArray(item)) throw new FlavorFileError(`entry ${i + 1}: not an object`);
  });
  return { raw: list as Raw[], where: (i) => `entry ${i + 1}` };
}

/**
 * The entries of a flavor file, every problem found at once (a file with
 * any problem is refused whole: nothing is written from it).
 */
export function parseFlavorFile(text: string, format: FlavorFileFormat, options: { addEphemeral: boolean }): FlavorInput[] {
  const { raw, where } = records(text, format);
  const problems: string[] = [];
  const flavors: FlavorInput[] = [];
  raw.forEach((item, i) => {
    const result = entry(item, where(i), options);
    problems.push(...result.problems);
    if (result.flavor) flavors.push(result.flavor);
  });
  // A string may be the name or alias of one entry only (2.4): a clash inside the file is the file's fault.
  const owner = new Map<string, string>();
  for (const f of flavors) {
    for (const s of [f.name, ...(f.aliases ?? []), ...f.extraAliases]) {
      const other = owner.get(s);
      if (other !== undefined && other !== f.name) problems.push(`${JSON.stringify(s)} names both ${other} and ${f.name}`);
      else if (other === f.name && s === f.name) problems.push(`${f.name} is listed twice`);
      owner.set(s, f.name);
    }
  }
  if (problems.length) throw new FlavorFileError(problems.join('\n'));
  if (!flavors.length) throw new FlavorFileError('the file lists no flavors');
  return flavors;
}

/** The format a file name implies, else a look at its first character. */
export function detectFormat(fileName: string, text: string): FlavorFileFormat {
  if (/\.json$/i.test(fileName)) return 'json';
  if (/\.csv$/i.test(fileName)) return 'csv';
  return /^\ufeff?\s*[[{]/.test(text) ? 'json' : 'csv';
}
