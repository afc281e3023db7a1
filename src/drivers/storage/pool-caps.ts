// Storage pool capabilities XML (virConnectGetStoragePoolCapabilities, `pool-capabilities`): which pool types work here.
import { type PoolType, poolTypeInfo } from '../../conf/storage/index.js';
import { elem, formatXml, textElem } from '../../util/xml.js';

/** Pool types in libvirt's enum order. */
const allTypes = Object.keys(poolTypeInfo) as PoolType[];

/**
 * The capabilities document: every pool type libvirt knows, `supported='yes'` for those with a
 * backend, with their source formats (poolOptions) and volume formats (volOptions).
 */
export function formatPoolCapabilities(supported: readonly PoolType[]): string {
  const pools = allTypes.map((type) => {
    if (!supported.includes(type)) return elem('pool', { type, supported: 'no' });
    const info = poolTypeInfo[type];
    const values = (name: string, list: readonly string[]) =>
      elem(
        'enum',
        { name },
        list.map((v) => textElem('value', v)),
      );
    const vols =
      info.volFormats && (info.volFormats[0] === 'none' ? info.volFormats : ['none', ...info.volFormats]);
    return elem('pool', { type, supported: 'yes' }, [
      info.formats &&
        elem('poolOptions', {}, [
          info.defaultFormat ? elem('defaultFormat', { type: info.defaultFormat }) : undefined,
          values('sourceFormatType', info.formats),
        ]),
      vols &&
        elem('volOptions', {}, [
          elem('defaultFormat', { type: info.volDefaultFormat ?? 'raw' }),
          values('targetFormatType', vols),
        ]),
    ]);
  });
  return formatXml(elem('storagepoolCapabilities', {}, pools));
}
