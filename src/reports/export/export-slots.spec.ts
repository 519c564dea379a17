import { ExportSlots } from './export-slots';

describe(ExportSlots.name, () => {
  it('hands out at most size slots and takes each back once', () => {
    const slots = new ExportSlots(2);
    const a = slots.tryAcquire();
    const b = slots.tryAcquire();
    expect(a).not.toBeNull();
    expect(b).not.toBeNull();
    expect(slots.tryAcquire()).toBeNull();
    expect(slots.inUse).toBe(2);
    a!();
    a!();
    expect(slots.inUse).toBe(1);
    const c = slots.tryAcquire();
    expect(c).not.toBeNull();
    expect(slots.tryAcquire()).toBeNull();
    b!();
    c!();
    expect(slots.inUse).toBe(0);
  });

  it('refuses a size below 1', () => {
    expect(() => new ExportSlots(0)).toThrow(/≥ 1/);
    expect(() => new ExportSlots(1.5)).toThrow();
  });
});
