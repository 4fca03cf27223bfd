// The error the protocol layer throws when input from the network breaks the protocol (a
// malformed frame or chunk): the runtime drops that peer instead of treating it as a bug here.
// What a neighbour does wrong within well-formed messages is a typed value, not an error
// (./misbehaviour.ts).

/** The remote side sent something the protocol forbids. The peer is at fault. */
export class RemoteProtocolError extends Error {
  override readonly name = 'RemoteProtocolError';
}
