// Error types shared by the protocol layer. They say whose fault a failure is,
// so the runtime can decide between "drop that peer" and "fix our own code".

/** The remote side sent something the protocol forbids. The peer is at fault. */
export class RemoteProtocolError extends Error {
  override readonly name = 'RemoteProtocolError';
}

/** Our own code misused the protocol layer (a bug here, never the peer's doing). */
export class LocalProtocolError extends Error {
  override readonly name = 'LocalProtocolError';
}
