/**
 * Which protocol owns a path (spec/README.md, "Path ownership"). The error
 * body shape, the accepted body types and the credential style follow it.
 */
export type Mount = 'almanach' | 'amie' | 'astakos' | 'allocations' | 'admin' | 'own';

const ALMANACH_ROOTS = ['info', 'project', 'instance', 'volume', 'volume_type', 'volume_types', 'entity'];

export function mountOf(url: string): Mount {
  const path = url.split('?', 1)[0];
  const first = path.split('/', 2)[1] ?? '';
  if (first === 'v1' || ALMANACH_ROOTS.includes(first)) return 'almanach';
  if (first === 'amie') return 'amie';
  if (first === 'astakos') return 'astakos';
  if (first === 'allocations') return 'allocations';
  if (first === 'admin') return 'admin';
  return 'own';
}
