// The fixed contents of test:///default, copied from libvirt's test driver (virsh -c test:///default).
import type { NodeInfo } from '../connection.js';

/** The running domain `test` (id 1) every test:///default connection starts with. */
export const defaultDomainXml = `<domain type='test'>
  <name>test</name>
  <uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>
  <memory unit='KiB'>8388608</memory>
  <currentMemory unit='KiB'>2097152</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='i686'>hvm</type>
    <boot dev='hd'/>
  </os>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <source file='/guest/diskimage1'/>
      <target dev='vda' bus='virtio'/>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
    </disk>
    <interface type='network'>
      <mac address='aa:bb:cc:dd:ee:ff'/>
      <source network='default'/>
      <target dev='testnet0'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0'/>
    </interface>
    <memballoon model='virtio'>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>
    </memballoon>
  </devices>
</domain>
`;

export const defaultNodeInfo: NodeInfo = {
  model: 'i686',
  memoryKiB: 3145728,
  cpus: 16,
  mhz: 1400,
  nodes: 2,
  sockets: 2,
  cores: 2,
  threads: 2,
};

/** The test hypervisor's version (virsh: "Running hypervisor: TEST 0.0.2"). */
export const testHypervisorVersion = '0.0.2';

export const securityModel = { model: 'testSecurity', doi: '', label: 'libvirt-test', enforcing: true };

function cell(id: number, memKiB: number, pageSize: number, firstCpu: number, socket: number): string {
  const cpus = Array.from(
    { length: 8 },
    (_, i) =>
      `            <cpu id='${firstCpu + i}' socket_id='${socket}' die_id='0' core_id='${i}' siblings='${firstCpu + i}'/>\n`,
  ).join('');
  return (
    `        <cell id='${id}'>\n` +
    `          <memory unit='KiB'>${memKiB}</memory>\n` +
    `          <pages unit='KiB' size='${pageSize}'>524288</pages>\n` +
    `          <pages unit='KiB' size='2048'>0</pages>\n` +
    `          <pages unit='KiB' size='1048576'>0</pages>\n` +
    `          <cpus num='8'>\n${cpus}          </cpus>\n` +
    `        </cell>\n`
  );
}

function guest(osType: string): string {
  return `  <guest>
    <os_type>${osType}</os_type>
    <arch name='i686'>
      <wordsize>32</wordsize>
      <emulator>/usr/bin/test-hv</emulator>
      <domain type='test'/>
    </arch>
    <features>
      <pae/>
      <nonpae/>
    </features>
  </guest>

`;
}

/** The capabilities XML of the test driver, byte for byte. */
export const capabilitiesXml = `<capabilities>

  <host>
    <cpu>
      <arch>i686</arch>
      <features>
        <pae/>
        <nonpae/>
      </features>
      <pages unit='KiB' size='4'/>
      <pages unit='KiB' size='8'/>
      <pages unit='KiB' size='2048'/>
      <pages unit='KiB' size='1048576'/>
    </cpu>
    <power_management/>
    <iommu support='no'/>
    <topology>
      <cells num='2'>
${cell(0, 2097152, 4, 0, 0)}${cell(1, 4194304, 8, 8, 1)}      </cells>
    </topology>
    <secmodel>
      <model>testSecurity</model>
      <doi></doi>
    </secmodel>
  </host>

${guest('hvm')}${guest('xen')}</capabilities>
`;
