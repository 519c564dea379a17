import { detectFormat, FlavorFileError, gpusFromSpecs, parseFlavorFile } from './flavor-import';

/** As `openstack flavor list --long -f json` prints it (python-openstackclient: Properties an object). */
const OPENSTACK_JSON = JSON.stringify([
  { ID: '1', Name: 'm1.tiny', RAM: 512, Disk: 1, Ephemeral: 0, VCPUs: 1, 'Is Public': true, Swap: 0, 'RXTX Factor': 1.0, Properties: {} },
  { ID: 'f3b1c0de-9a1e-4d6c-8f3e-0b1a2c3d4e5f', Name: 'g1.large', RAM: 65536, Disk: 40, Ephemeral: 100, VCPUs: 16, 'Is Public': false, Swap: '', 'RXTX Factor': 1.0, Properties: { 'pci_passthrough:alias': 'a100:2', 'hw:cpu_policy': 'dedicated' } },
]);

/** As `openstack flavor list --long -f csv` prints it (Properties in the older key='value' text). */
const OPENSTACK_CSV = [
  '"ID","Name","RAM","Disk","Ephemeral","VCPUs","Is Public","Swap","RXTX Factor","Properties"',
  '"2","m1.small",2048,20,0,1,True,0,1.0,""',
  '"v1","v1.gpu",8192,20,10,4,True,0,1.0,"hw:cpu_policy=\'shared\', resources:VGPU=\'1\'"',
].join('\r\n');

describe(parseFlavorFile.name, () => {
  it('maps the OpenStack JSON: name, the id as an alias, the root disk, GPUs from the extra specs', () => {
    expect(parseFlavorFile(OPENSTACK_JSON, 'json', { addEphemeral: false })).toEqual([
      { name: 'm1.tiny', vcpus: 1, ram_mb: 512, disk_gb: 1, extraAliases: ['1'] },
      { name: 'g1.large', vcpus: 16, ram_mb: 65536, disk_gb: 40, extraAliases: ['f3b1c0de-9a1e-4d6c-8f3e-0b1a2c3d4e5f'], gpus: 2 },
    ]);
    expect(parseFlavorFile(OPENSTACK_JSON, 'json', { addEphemeral: true })[1].disk_gb).toBe(140);
  });

  it('maps the OpenStack CSV, extra specs in the older text form', () => {
    expect(parseFlavorFile(OPENSTACK_CSV, 'csv', { addEphemeral: true })).toEqual([
      { name: 'm1.small', vcpus: 1, ram_mb: 2048, disk_gb: 20, extraAliases: ['2'] },
      { name: 'v1.gpu', vcpus: 4, ram_mb: 8192, disk_gb: 30, extraAliases: ['v1'], gpus: 1 },
    ]);
  });

  it('reads the catalogue form: CSV with ;-separated aliases, and the answer of GET /reports/flavors without its unsized strings', () => {
    expect(parseFlavorFile('name,vcpus,ram_mb,disk_gb,gpus,aliases,description\nm1.small,1,2048,20,0,2;small,"1 vCPU, 2 GB"\n', 'csv', { addEphemeral: false })).toEqual([
      { name: 'm1.small', vcpus: 1, ram_mb: 2048, disk_gb: 20, gpus: 0, aliases: ['2', 'small'], extraAliases: [], description: '1 vCPU, 2 GB' },
    ]);
    const listed = { flavors: [{ name: 'm1.small', sized: true, aliases: ['2'], vcpus: 1, ram_mb: 2048, disk_gb: 20, gpus: 0, description: '' }, { name: 'c1.huge', sized: false }] };
    expect(parseFlavorFile(JSON.stringify(listed), 'json', { addEphemeral: false })).toEqual([
      { name: 'm1.small', vcpus: 1, ram_mb: 2048, disk_gb: 20, gpus: 0, aliases: ['2'], extraAliases: [], description: '' },
    ]);
  });

  it.each([
    ['not JSON', '[{', 'json', /not JSON/],
    ['not a list', '{"Name": "x"}', 'json', /must be a list of flavors/],
    ['an entry not an object', '[1]', 'json', /entry 1: not an object/],
    ['no flavors', '[]', 'json', /lists no flavors/],
    ['every bad field at once', '[{"Name": "a", "VCPUs": -1, "RAM": "lots"}]', 'json', /entry 1 \(a\): VCPUs must be a whole number[^]*RAM must be[^]*Disk must be a whole number from 0 to 2147483647 \(missing\)/],
    ['a missing name', '[{"VCPUs": 1, "RAM": 1, "Disk": 1}]', 'json', /entry 1: Name must be 1 to 255 characters/],
    ['a name twice', '[{"Name": "a", "VCPUs": 1, "RAM": 1, "Disk": 1}, {"Name": "a", "VCPUs": 1, "RAM": 1, "Disk": 1}]', 'json', /a is listed twice/],
    ['an id that is another name', '[{"ID": "b", "Name": "a", "VCPUs": 1, "RAM": 1, "Disk": 1}, {"Name": "b", "VCPUs": 1, "RAM": 1, "Disk": 1}]', 'json', /"b" names both a and b/],
    ['a short CSV row', 'Name,VCPUs,RAM,Disk\nm1,1,2\n', 'csv', /row 2: 3 fields where the header has 4/],
    ['broken CSV', 'Name,VCPUs\n"m1,1\n', 'csv', /not CSV: line 2: Quote Not Closed/],
    ['an empty CSV', '', 'csv', /needs a header row/],
  ])('refuses %s', (_what, text, format, message) => {
    expect(() => parseFlavorFile(text, format as 'json' | 'csv', { addEphemeral: false })).toThrow(FlavorFileError);
    expect(() => parseFlavorFile(text, format as 'json' | 'csv', { addEphemeral: false })).toThrow(message);
  });
});

describe(gpusFromSpecs.name, () => {
  it('adds vGPUs and PCI alias counts; says nothing without either', () => {
    expect(gpusFromSpecs({ 'resources:VGPU': '2', 'pci_passthrough:alias': 'a100:2, t4' })).toBe(5);
    expect(gpusFromSpecs({ 'hw:cpu_policy': 'dedicated' })).toBeUndefined();
  });
});

describe(detectFormat.name, () => {
  it('goes by the extension, else by the first character', () => {
    expect(detectFormat('f.CSV', '[')).toBe('csv');
    expect(detectFormat('f.json', 'Name')).toBe('json');
    expect(detectFormat('-', ' \n[{}]')).toBe('json');
    expect(detectFormat('-', '"ID","Name"')).toBe('csv');
  });
});
