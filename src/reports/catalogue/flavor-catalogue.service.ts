import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Principal } from '../../auth/principal';
import { DomainError } from '../../http/domain-error';
import { ReportAuditRepository } from '../audit/report-audit.repository';
import { invalid } from '../window/reports-input';
import { CatalogueError } from './catalogue.errors';
import { FlavorClash, FlavorCatalogueRepository, FlavorRecord } from './flavor-catalogue.repository';
import { PutFlavorDto } from './dto/flavor.dto';
import { FlavorListView, FlavorView, PutFlavorView, UnsizedFlavorView } from './dto/flavor.views';

/**
 * The flavor catalogue (reports.md 2.4, 3.5): sizes for the flavor strings
 * Almanach versions store. Every write takes the catalogue's write lock,
 * checks that no string is the name or alias of two entries, writes, and
 * appends exactly one audit entry (4.4), all in one transaction.
 */
@Injectable()
export class FlavorCatalogueService {
  constructor(
    private readonly db: DataSource,
    private readonly flavors: FlavorCatalogueRepository,
    private readonly audit: ReportAuditRepository,
  ) {}

  /**
   * Catalogue entries (`sized: true`) and the strings history stores that
   * are neither a name nor an alias (`sized: false`), together by name in
   * byte order. A `user` sees every entry (the catalogue is configuration,
   * not a figure) but only the unsized strings of its own projects (1.3).
   */
  async list(principal: Principal): Promise<FlavorListView> {
    const entries = await this.flavors.all();
    const unsized = await this.flavors.unsized(principal.role === 'user' ? principal.projectIds : undefined);
    const flavors: (FlavorView | UnsizedFlavorView)[] = [
      ...entries.map(view),
      ...unsized.map((name): UnsizedFlavorView => ({ name, sized: false })),
    ];
    flavors.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
    return { flavors };
  }

  /** Creates (`created: true`) or replaces the entry `name`. */
  async put(name: string, body: PutFlavorDto, actor: Principal): Promise<{ created: boolean; flavor: PutFlavorView }> {
    const aliases = body.aliases ?? [];
    if (aliases.includes(name)) throw invalid('aliases', 'must not repeat the flavor name');
    return this.db.transaction(async (m) => {
      await this.flavors.lockForWrite(m);
      const before = await this.flavors.get(name, m);
      const clashes = await this.flavors.clashes(name, aliases, m);
      if (clashes.length > 0) throw taken(clashes[0]);
      await this.flavors.upsert(
        { name, vcpus: body.vcpus, ram_mb: body.ram_mb, disk_gb: body.disk_gb, gpus: body.gpus ?? 0, description: body.description ?? '', updated_by: actor.name },
        m,
      );
      await this.flavors.replaceAliases(name, aliases, m);
      const after = view((await this.flavors.get(name, m))!);
      await this.audit.append({ actor: actor.name, action: before ? 'update' : 'create', object: 'flavor', objectId: name, before: before ? view(before) : null, after }, m);
      // Rating (reports.md 4) does not exist yet: no rated cell can need a re-rate.
      return { created: !before, flavor: { ...after, rerate_job: null } };
    });
  }

  /** Deletes an entry that no version in history stores, by its name or an alias. */
  async remove(name: string, actor: Principal): Promise<void> {
    await this.db.transaction(async (m) => {
      await this.flavors.lockForWrite(m);
      const before = await this.flavors.get(name, m);
      if (!before) throw new DomainError(CatalogueError.NotFound, `No flavor named ${JSON.stringify(name)} in the catalogue`);
      const stored = await this.flavors.storedInHistory([before.name, ...before.aliases], m);
      if (stored !== undefined) {
        const how = stored === name ? 'its name' : `its alias ${JSON.stringify(stored)}`;
        throw new DomainError(
          CatalogueError.InUse,
          `Flavor ${JSON.stringify(name)} is in use: versions in history store ${how}; correct those versions instead of deleting the flavor`,
        );
      }
      await this.flavors.delete(name, m);
      await this.audit.append({ actor: actor.name, action: 'delete', object: 'flavor', objectId: name, before: view(before), after: null }, m);
    });
  }
}

/** The wire form of an entry; also what the audit entry stores as before/after. */
function view(record: FlavorRecord): FlavorView {
  return {
    name: record.name,
    sized: true,
    aliases: record.aliases,
    vcpus: record.vcpus,
    ram_mb: record.ram_mb,
    disk_gb: record.disk_gb,
    gpus: record.gpus,
    description: record.description,
    updated_at: record.updated_at.toISOString(),
    updated_by: record.updated_by,
  };
}

function taken(clash: FlavorClash): DomainError {
  const owned = clash.owned_as === 'name' ? `the name of flavor ${JSON.stringify(clash.owner)}` : `an alias of flavor ${JSON.stringify(clash.owner)}`;
  const asked = clash.asked_as === 'name' ? 'The name' : 'The alias';
  return new DomainError(CatalogueError.Taken, `${asked} ${JSON.stringify(clash.value)} is already ${owned}: a string may mean one flavor only`);
}
