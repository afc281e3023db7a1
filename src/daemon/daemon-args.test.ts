import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isVirError } from '../util/errors.js';
import { parseDaemonArgs, parseListen } from './tvirtd.js';

describe('tvirtd arguments', () => {
  it('parses flags', () => {
    assert.equal(parseDaemonArgs(['--help']), 'help');
    assert.deepEqual(
      parseDaemonArgs([
        '--root',
        '/r',
        '--driver',
        'test',
        '--listen-tcp',
        '0.0.0.0:16510',
        '--tcp-auth-token-file',
        '/t',
        '--unix-group',
        'kvm',
        '--timeout',
        '30',
        '--log-format',
        'logfmt',
        '--verbose',
      ]),
      {
        root: '/r',
        driver: 'test',
        listenTcp: '0.0.0.0:16510',
        tcpAuthTokenFile: '/t',
        unixGroup: 'kvm',
        timeout: 30,
        logFormat: 'logfmt',
        verbose: true,
      },
    );
    for (const bad of [
      ['--root', '/r', '--session'],
      ['--timeout', 'soon'],
      ['--log-format', 'xml'],
      ['--tls-cert', '/c'],
      ['--tls-client-ca', '/ca'],
    ])
      assert.throws(
        () => parseDaemonArgs(bad),
        (e) => isVirError(e, 'INVALID_ARG'),
      );
    assert.throws(() => parseDaemonArgs(['--nope']));
  });

  it('parses listen addresses', () => {
    assert.deepEqual(parseListen('127.0.0.1:16510'), { host: '127.0.0.1', port: 16510 });
    assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
    assert.deepEqual(parseListen('8080'), { host: '127.0.0.1', port: 8080 });
    assert.throws(
      () => parseListen('host'),
      (e) => isVirError(e, 'INVALID_ARG'),
    );
    assert.throws(
      () => parseListen('h:99999'),
      (e) => isVirError(e, 'INVALID_ARG'),
    );
  });
});
