import { validateDto } from '../../http/validation.pipe';
import { IssueCommissionDto, ResolveCommissionDto, ResolveCommissionsDto, SerialParamsDto } from './commission.dto';
import { TokensBodyDto } from './identity.dto';
import { ServiceQuotasQueryDto } from './quota-query.dto';
import { PutHoldingsDto, PutResourceDto } from './quotas-admin.dto';

// The quotas DTOs through the same function the global pipe runs: the
// message names the field with its path, in the wording of quotas.md.

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a validation error');
}

const provision = { holder: 'user:u', source: 'project:p', resource: 'r', quantity: 1 };

describe('quotas DTOs', () => {
  it.each([
    [{}, /^auth: is required/],
    [{ auth: 'x' }, /^auth: must be an object/],
    [{ auth: { token: {} } }, /^auth\.token\.id: is required/],
    [{ auth: { token: { id: 5 } } }, /^auth\.token\.id: must be a string/],
    [{ auth: { token: { id: 't' }, tenantName: 5 } }, /^auth\.tenantName: must be a string/],
  ])('identity body %j: %s', (body, message) => {
    expect(messageOf(() => validateDto(TokensBodyDto, body))).toMatch(message);
  });

  it('identity body: other fields are ignored', () => {
    const dto = validateDto(TokensBodyDto, { auth: { token: { id: 't', extra: 1 }, passwordCredentials: {} }, x: 1 });
    expect(dto.auth.token.id).toBe('t');
    expect(dto).not.toHaveProperty('x');
  });

  it.each([
    [{}, /^provisions: is required/],
    [{ provisions: {} }, /^provisions: must be a list/],
    [{ provisions: [provision, 5] }, /^provisions\[1\]: must be an object/],
    [{ provisions: [provision, null] }, /^provisions\[1\]: must be an object/],
    [{ provisions: [[provision]] }, /^provisions: member 0 is a list/],
    [{ provisions: [{ ...provision, holder: undefined }] }, /^provisions\[0\]\.holder: is required/],
    [{ provisions: [{ holder: 'user:u', resource: 'r', quantity: 1 }] }, /^provisions\[0\]\.source: is required/],
    [{ provisions: [{ ...provision, source: 5 }] }, /^provisions\[0\]\.source: must be a string or null/],
    [{ provisions: [{ ...provision, quantity: '1' }] }, /^provisions\[0\]\.quantity: must be an integer/],
    [{ provisions: [{ ...provision, quantity: true }] }, /^provisions\[0\]\.quantity: must be an integer/],
    [{ provisions: [{ ...provision, quantity: 1.5 }] }, /^provisions\[0\]\.quantity: must be an integer/],
    [{ provisions: [{ ...provision, quantity: 2 ** 53 }] }, /^provisions\[0\]\.quantity: must be an integer/],
    [{ provisions: [], force: 'yes' }, /^force: must be a boolean/],
    [{ provisions: [], auto_accept: 1 }, /^auto_accept: must be a boolean/],
    [{ provisions: [], name: 5 }, /^name: must be a string/],
  ])('issue body %j: %s', (body, message) => {
    expect(messageOf(() => validateDto(IssueCommissionDto, body))).toMatch(message);
  });

  it('issue body: extra fields are dropped, a null source and negative quantities pass', () => {
    const dto = validateDto(IssueCommissionDto, { provisions: [{ holder: 'project:p', source: null, resource: 'r', quantity: -3, x: 1 }], y: 2 });
    expect(dto).toEqual({ provisions: [{ holder: 'project:p', source: null, resource: 'r', quantity: -3 }] });
  });

  it('serial path: decimal digits only', () => {
    expect(messageOf(() => validateDto(SerialParamsDto, { serial: '1x' }))).toBe('serial: must be a decimal integer, not "1x"');
    expect(validateDto(SerialParamsDto, { serial: '0042' }).serial).toBe('0042');
  });

  it.each([
    [{}, /exactly one of the keys accept and reject/],
    [{ accept: '', reject: '' }, /exactly one of the keys accept and reject/],
  ])('single action %j: 400', (body, message) => {
    expect(messageOf(() => validateDto(ResolveCommissionDto, body))).toMatch(message);
  });

  it('single action: the value is ignored, null included', () => {
    expect(validateDto(ResolveCommissionDto, { accept: null }).accept).toBeNull();
    expect(validateDto(ResolveCommissionDto, { reject: { any: 1 } }).reject).toEqual({ any: 1 });
  });

  it.each([[{ accept: 1 }], [{ accept: null }], [{ reject: ['1'] }], [{ reject: [1.5] }], [{ accept: [true] }]])('bulk action %j: 400', (body) => {
    expect(messageOf(() => validateDto(ResolveCommissionsDto, body))).toMatch(/^(accept|reject): must be a list of integer serials/);
  });

  it('service_quotas query: one uuid, a comma list or repeated keys', () => {
    expect(validateDto(ServiceQuotasQueryDto, { user: 'a,b, a', project: ['p', 'q,p'] }, 'query')).toEqual({ user: ['a', 'b'], project: ['p', 'q'] });
    expect(validateDto(ServiceQuotasQueryDto, { user: '' }, 'query').user).toBeUndefined();
  });

  it.each([
    [{}, /^service: is required/],
    [{ service: 1 }, /^service: must be a string/],
    [{ service: 's', unit: true }, /^unit: must be a string or null/],
    [{ service: 's', api_visible: 'no' }, /^api_visible: must be a boolean/],
  ])('resource body %j: %s', (body, message) => {
    expect(messageOf(() => validateDto(PutResourceDto, body))).toMatch(message);
  });

  it.each([
    [{ holdings: [5] }, /^holdings\[0\]: must be an object/],
    [{ holdings: [{ holder: 'project:p', resource: 'r', limit: 1 }] }, /^holdings\[0\]\.source: is required/],
    [{ holdings: [{ holder: 'project:p', source: null, resource: 'r', limit: -1 }] }, /^holdings\[0\]\.limit: must be an integer from 0/],
  ])('holdings body %j: %s', (body, message) => {
    expect(messageOf(() => validateDto(PutHoldingsDto, body))).toMatch(message);
  });
});
