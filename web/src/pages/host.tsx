// Host overview: the machine (CPU, memory) and how many guests run and are defined.
import { useEffect, useState } from 'react';
import { type ApiError, type NodeInfo, type VersionInfo, api, toApiError } from '../api';
import { isActive } from '../components/state';
import { ErrorBox } from '../components/error-box';
import { kib } from '../format';
import { href } from '../router';
import { useGuests } from '../store';

export function HostPage() {
  const [host, setHost] = useState<{ hostname: string; nodeInfo: NodeInfo }>();
  const [version, setVersion] = useState<VersionInfo>();
  const [error, setError] = useState<ApiError>();
  const { guests, loaded } = useGuests();
  useEffect(() => {
    Promise.all([api.host(), api.version()]).then(
      ([h, v]) => {
        setHost(h);
        setVersion(v);
      },
      (e) => setError(toApiError(e)),
    );
  }, []);
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
