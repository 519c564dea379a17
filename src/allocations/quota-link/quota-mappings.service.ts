import { Injectable } from '@nestjs/common';
import { DomainError } from '../../http/domain-error';
import { AllocationsError } from '../allocations.errors';
import { PutQuotaMappingDto } from './dto/put-quota-mapping.dto';
import { QuotaMappingsRepository, StoredMapping } from './quota-mappings.repository';

/** A mapping as the admin API shows it (docs/allocations.md §10). */
export interface MappingView {
  id: number;
  codename: string;
  zone: string | null;
  resource: string;
  factor: number;
}

/** The admin-managed mapping from allocation codenames and zones to quota resources (allocations.md §10). */
@Injectable()
export class QuotaMappingsService {
  constructor(private readonly mappings: QuotaMappingsRepository) {}

  async list(): Promise<{ mappings: MappingView[] }> {
    return { mappings: (await this.mappings.list()).map(view) };
  }

  /** Creates (created = true) or replaces the mapping of (codename, zone); the target quota resource must exist. */
  async put(input: PutQuotaMappingDto): Promise<{ created: boolean; mapping: MappingView }> {
    if (!(await this.mappings.quotaResourceExists(input.resource))) throw unknownResource(input.resource);
    try {
      const row = await this.mappings.upsert(input.codename, input.zone ?? '', input.resource, input.factor ?? 1);
      return { created: row.created, mapping: view(row) };
    } catch (error) {
      // The resource was deleted between the check and the insert.
      if ((error as { driverError?: { code?: string } }).driverError?.code === '23503') throw unknownResource(input.resource);
      throw error;
    }
  }

  async remove(id: string): Promise<void> {
    const deleted = /^\d{1,9}$/.test(id) && (await this.mappings.delete(Number(id)));
    if (!deleted) throw new DomainError(AllocationsError.NotFound, `quota mapping ${id} not found`);
  }
}

function view(row: StoredMapping): MappingView {
  return { id: row.id, codename: row.codename, zone: row.zone === '' ? null : row.zone, resource: row.resource, factor: Number(row.factor) };
}

function unknownResource(resource: string): DomainError {
  return new DomainError(
    AllocationsError.Validation,
    `resource: quota resource ${resource} does not exist; create it first with PUT /admin/quotas/resources/${resource}`,
  );
}
