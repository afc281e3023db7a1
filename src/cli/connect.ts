// The connection factory: test:///default is the in-process test driver; every other URI goes to
// tvirtd through the remote client, loaded only when needed.
import type { Connection } from '../drivers/connection.js';

/** The URI used without -c: TVIRT_DEFAULT_URI, else qemu:///system for root, qemu:///session otherwise. */
export function defaultUri(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TVIRT_DEFAULT_URI) return env.TVIRT_DEFAULT_URI;
  return process.getuid?.() === 0 ? 'qemu:///system' : 'qemu:///session';
}

/** Opens a connection to `uri`. @throws VirError NO_CONNECT when no driver or daemon answers. */
export async function openConnection(uri: string): Promise<Connection> {
  if (uri === 'test:///default' || uri === 'test:///') {
    const { openTestConnection } = await import('../drivers/test/driver.js');
    return openTestConnection();
  }
  const { connectRemote } = await import('../api/client.js');
  return connectRemote(uri);
}
