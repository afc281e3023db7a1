// Network and storage XML built from the create forms.
function esc(s: string): string {
  return s.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!,
  );
}

export interface NewNetwork {
  name: string;
  mode: 'nat' | 'isolated';
  /** The host's address on the network (the gateway), e.g. 192.168.100.1 */
  address: string;
  prefix: number;
  dhcpStart: string;
  dhcpEnd: string;
}

export function newNetworkXml(n: NewNetwork): string {
  return [
    '<network>',
    `  <name>${esc(n.name)}</name>`,
    ...(n.mode === 'nat' ? ["  <forward mode='nat'/>"] : []),
    `  <ip address='${esc(n.address)}' prefix='${n.prefix}'>`,
    ...(n.dhcpStart && n.dhcpEnd
      ? ['    <dhcp>', `      <range start='${esc(n.dhcpStart)}' end='${esc(n.dhcpEnd)}'/>`, '    </dhcp>']
      : []),
    '  </ip>',
    '</network>',
    '',
  ].join('\n');
}

export function newDirPoolXml(name: string, path: string): string {
  return `<pool type='dir'>\n  <name>${esc(name)}</name>\n  <target>\n    <path>${esc(path)}</path>\n  </target>\n</pool>\n`;
}

export function newVolumeXml(name: string, capacityBytes: number, format: string): string {
  return `<volume>\n  <name>${esc(name)}</name>\n  <capacity unit='bytes'>${capacityBytes}</capacity>\n  <target>\n    <format type='${esc(format)}'/>\n  </target>\n</volume>\n`;
}
