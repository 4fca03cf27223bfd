// What a neighbour did wrong, as a typed value: a code from a closed list, and for two codes
// the number that makes a log line useful. ./neighbour-rules.ts decides; the runtime logs the
// text and bans, the simulator counts by code. Data only.

export type MisbehaviourCode =
  | 'message-before-hello'
  | 'second-hello'
  | 'wrong-version'
  | 'wrong-channel'
  | 'hello-timeout'
  | 'flood-control-bytes'
  | 'flood-haves'
  | 'flood-buffer-maps'
  | 'flood-cancels'
  | 'flood-answers'
  | 'flood-requests'
  | 'refuses-advertised'
  | 'withholds-advertised'
  | 'replays-unasked'
  | 'foreign-chunk'
  | 'bad-signature';

export interface Misbehaviour {
  code: MisbehaviourCode;
  /** For logs: the protocol version it spoke (wrong-version), the chunk it forged (bad-signature). */
  detail?: string;
}

/**
 * Each code in the words reports and logs have always used (the simulator's reports group by
 * these, so they must not change); N stands for the detail.
 */
export const MISBEHAVIOUR_GROUPS: Readonly<Record<MisbehaviourCode, string>> = {
  'message-before-hello': 'sent a message before its hello',
  'second-hello': 'sent a second hello',
  'wrong-version': 'speaks protocol version N',
  'wrong-channel': 'is on another channel',
  'hello-timeout': 'sent no hello in time',
  'flood-control-bytes': 'floods us with control bytes',
  'flood-haves': 'floods us with HAVEs',
  'flood-buffer-maps': 'floods us with buffer maps',
  'flood-cancels': 'floods us with cancels',
  'flood-answers': 'floods us with answers',
  'flood-requests': 'floods us with requests',
  'refuses-advertised': 'refuses chunks it advertised',
  'withholds-advertised': 'does not deliver chunks it advertised',
  'replays-unasked': 'replays chunks nobody asked for',
  'foreign-chunk': 'sent a chunk of another channel',
  'bad-signature': 'sent chunk N with an invalid signature',
};

/** The sentence for a log line, its detail in place of N. */
export function misbehaviourText(m: Misbehaviour): string {
  const group = MISBEHAVIOUR_GROUPS[m.code];
  return m.detail === undefined ? group : group.replace('N', m.detail);
}
