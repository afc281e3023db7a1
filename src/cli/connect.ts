// The connection factory: test:///default is the in-process test driver; every other URI goes to
// tvirtd through the remote client, loaded only when needed.
import { VirError } from '../util/errors.js';
import type { Connection } from '../drivers/connection.js';

/** The URI used without -c: TVIRT_DEFAULT_URI, else qemu:///system for root, qemu:///session otherwise. */
export function defaultUri(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TVIRT_DEFAULT_URI) return env.TVIRT_DEFAULT_URI;
  return process.getuid?.() === 0 ? 'qemu:///system' : 'qemu:///session';
}

/** Opens a connection to `uri`. @throws VirError NO_CONNECT when no driver or client can serve it. */
export async function openConnection(uri: string): Promise<Connection> {
  if (uri === 'test:///default' || uri === 'test:///') {
    const { openTestConnection } = await import('../drivers/test/driver.js');
    return openTestConnection();
  }
  // A variable path keeps the CLI compiling while the remote client does not exist yet.
  const clientPath = '../api/client.js';
  let mod: { connectRemote?: (uri: string) => Promise<Connection> };
  try {
    mod = (await import(clientPath)) as typeof mod;
  } catch (e) {
    throw new VirError('NO_CONNECT', `cannot connect to URI '${uri}': the remote client is not available`, {
      domain: 'RPC',
      cause: e,
    });
  }
  if (typeof mod.connectRemote !== 'function') {
    throw new VirError('NO_CONNECT', `cannot connect to URI '${uri}': the remote client is not available`, {
      domain: 'RPC',
    });
  }
  return mod.connectRemote(uri);
}
