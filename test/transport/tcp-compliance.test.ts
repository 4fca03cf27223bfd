// TcpTransport passes the transport compliance suite (./compliance.ts) on loopback links.

import { newNodeKey } from '../../src/crypto/keys.js';
import { TcpTransport } from '../../src/transport/tcp.js';
import type { Connection, Listener } from '../../src/transport/transport.js';
import { transportCompliance } from './compliance.js';

const listeners: Listener[] = [];

transportCompliance('TCP', {
  async open() {
    const dialerKey = newNodeKey();
    const acceptorKey = newNodeKey();
    let accepted: ((c: Connection) => void) | undefined;
    const acceptor = new Promise<Connection>((resolve) => {
      accepted = resolve;
    });
    const listener = await new TcpTransport({ keyPair: acceptorKey.keyPair }).listen('127.0.0.1', 0, (c) => accepted?.(c));
    listeners.push(listener);
    const dialer = await new TcpTransport({ keyPair: dialerKey.keyPair }).dial('127.0.0.1', listener.port, 5000);
    return {
      dialer,
      acceptor: await acceptor,
      keys: { dialer: dialerKey.publicKey, acceptor: acceptorKey.publicKey },
      dialerSees: { address: '127.0.0.1', port: listener.port },
      acceptorSees: { address: '127.0.0.1' },
    };
  },
  path: 'direct',
  async done() {
    await Promise.all(listeners.map((l) => l.close()));
  },
});
