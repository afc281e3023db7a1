// Host overview: the machine (CPU, memory), guests running/defined, storage pools and networks.
import { useCallback, useEffect, useState } from 'react';
import {
  ApiError,
  type NetworkSummary,
  type NodeInfo,
  type StoragePoolInfo,
  type VersionInfo,
  api,
  netApi,
  storageApi,
  toApiError,
} from '../api';
import { isActive } from '../components/state';
import { ErrorBox } from '../components/error-box';
import { kib } from '../format';
import { href } from '../router';
import { guestStore, useGuests } from '../store';

export function HostPage() {
  const [host, setHost] = useState<{ hostname: string; nodeInfo: NodeInfo }>();
  const [version, setVersion] = useState<VersionInfo>();
  const [error, setError] = useState<ApiError>();
  const [nets, setNets] = useState<NetworkSummary[] | ApiError>();
  const [pools, setPools] = useState<StoragePoolInfo[] | ApiError>();
  const { guests, loaded } = useGuests();
  const loadNets = useCallback(() => {
    netApi.list().then(
      (r) => setNets(r.networks),
      (e) => setNets(toApiError(e)),
    );
  }, []);
  const loadPools = useCallback(() => {
    storageApi
      .pools()
      .then((r) => Promise.all(r.pools.map((p) => storageApi.poolInfo(p.name).catch(() => p))))
      .then(setPools, (e) => setPools(toApiError(e)));
  }, []);
  useEffect(() => {
    Promise.all([api.host(), api.version()]).then(
      ([h, v]) => {
        setHost(h);
        setVersion(v);
      },
      (e) => setError(toApiError(e)),
    );
    loadNets();
    loadPools();
    // Live, as the guest counts are: networks and pools change elsewhere too. Volume jobs change
    // a pool's free space.
    return guestStore.onEvent((e) => {
      if (e.kind === 'network-lifecycle') loadNets();
      else if (e.kind === 'pool-lifecycle') loadPools();
      else if (e.kind === 'job' && /\//.test(e.name) && (e.event === 'completed' || e.event === 'cancelled'))
        loadPools();
    });
  }, [loadNets, loadPools]);
  const running = guests.filter((g) => isActive(g.state)).length;
  const ni = host?.nodeInfo;
  return (
    <section aria-labelledby="host-title">
      <h1 id="host-title">Host {host?.hostname ?? ''}</h1>
      <ErrorBox error={error} />
      <div className="cards">
        <div className="card">
          <h2>CPU</h2>
          {ni ? (
            <dl>
              <dt>Model</dt>
              <dd>{ni.model}</dd>
              <dt>CPUs</dt>
              <dd>{ni.cpus}</dd>
              <dt>Frequency</dt>
              <dd>{ni.mhz} MHz</dd>
              <dt>Topology</dt>
              <dd>
                {ni.nodes} node(s), {ni.sockets} socket(s), {ni.cores} core(s), {ni.threads} thread(s)
              </dd>
            </dl>
          ) : (
            <p className="loading">…</p>
          )}
        </div>
        <div className="card">
          <h2>Memory</h2>
          {ni ? <p className="big">{kib(ni.memoryKiB)}</p> : <p className="loading">…</p>}
        </div>
        <div className="card">
          <h2>Guests</h2>
          {loaded ? (
            <p className="big">
              <a href={href('/guests')} data-testid="guest-counts">
                {running} running / {guests.length} defined
              </a>
            </p>
          ) : (
            <p className="loading">…</p>
          )}
        </div>
        <div className="card">
          <h2>Storage</h2>
          {pools === undefined ? (
            <p className="loading">…</p>
          ) : pools instanceof ApiError ? (
            <ErrorBox error={pools} />
          ) : (
            <>
              <p>
                <a href={href('/storage')} data-testid="pool-counts">
                  {pools.filter((p) => p.active).length} active / {pools.length} pools
                </a>
              </p>
              <dl>
                {pools.map((p) => [
                  <dt key={`${p.uuid}t`}>{p.name}</dt>,
                  <dd key={`${p.uuid}d`}>
                    {p.active && p.capacity !== undefined
                      ? `${kib((p.available ?? 0) / 1024)} free of ${kib(p.capacity / 1024)}`
                      : 'inactive'}
                  </dd>,
                ])}
              </dl>
            </>
          )}
        </div>
        <div className="card">
          <h2>Networks</h2>
          {nets === undefined ? (
            <p className="loading">…</p>
          ) : nets instanceof ApiError ? (
            <ErrorBox error={nets} />
          ) : (
            <p>
              <a href={href('/networks')} data-testid="network-counts">
                {nets.filter((n) => n.active).length} active / {nets.length} defined
              </a>
            </p>
          )}
        </div>
        <div className="card">
          <h2>Hypervisor</h2>
          {version ? (
            <dl>
              <dt>Type</dt>
              <dd>{version.hypervisorType}</dd>
              <dt>Version</dt>
              <dd>{version.hypervisor}</dd>
              <dt>tvirt</dt>
              <dd>{version.library}</dd>
            </dl>
          ) : (
            <p className="loading">…</p>
          )}
        </div>
      </div>
    </section>
  );
}
