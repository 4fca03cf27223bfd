// `meshtv broadcast`: the broadcaster's flags, checked, and the broadcast run until a signal or
// the input's end.

import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { watchPageUrl } from '../api/channel-uri.js';
import { tellBench } from '../bench/messages.js';
import { UserError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { type EncodingOptions, parseBitrateKbps, parseFps, parseResolution } from '../media/encoding.js';
import { describeInput, type InputSource, parseInput, rtmpServerUrl } from '../media/input.js';
import { parseRenditions } from '../media/renditions.js';
import { startBroadcast } from '../native/broadcaster.js';
import { channelNameProblem } from '../protocol/channel-record.js';
import { commandHelp, parse, parseOriginLimit, parseSourceUploadLimit, str } from './args.js';
import { GUIDE_FLAGS, guideOptions } from './guide-flags.js';
import { defaultKeyFile, logger, networkOptions, PEER, port, positiveInt, trackers } from './peer-flags.js';
import { Shutdown } from './shutdown.js';

export async function runBroadcast(args: string[]): Promise<number> {
  const { values } = parse(args, {
    ...PEER,
    name: { type: 'string' },
    key: { type: 'string' },
    input: { type: 'string' },
    loop: { type: 'boolean' },
    copy: { type: 'boolean' },
    'video-bitrate': { type: 'string' },
    'audio-bitrate': { type: 'string' },
    resolution: { type: 'string' },
    renditions: { type: 'string' },
    fps: { type: 'string' },
    'upload-limit': { type: 'string' },
    'http-host': { type: 'string' },
    'origin-limit': { type: 'string' },
    ...GUIDE_FLAGS,
  });
  if (values.help) return commandHelp();
  const log = logger(values);
  const sourceLimit = str(values, 'upload-limit');
  const originLimit = str(values, 'origin-limit');
  const input = parseInput(str(values, 'input'), { loop: values.loop === true, makeKey: () => randomBytes(12).toString('base64url') });
  if (input.kind === 'stdin' && process.stdin.isTTY) {
    throw new UserError(
      '--input - reads MPEG-TS from stdin, which is a terminal; pipe a stream in: ffmpeg -i SOURCE -f mpegts - | meshtv broadcast --input -',
    );
  }
  const vb = str(values, 'video-bitrate');
  const ab = str(values, 'audio-bitrate');
  const res = str(values, 'resolution');
  const fps = str(values, 'fps');
  const ladder = str(values, 'renditions');
  const encoding: Partial<EncodingOptions> = {
    ...(ladder !== undefined ? { renditions: parseRenditions(ladder) } : {}),
    copy: values.copy === true,
    ...(vb !== undefined ? { videoBitrateKbps: parseBitrateKbps(vb, '--video-bitrate') } : {}),
    ...(ab !== undefined ? { audioBitrateKbps: parseBitrateKbps(ab, '--audio-bitrate') } : {}),
    ...(res !== undefined ? { resolution: parseResolution(res) } : {}),
    ...(fps !== undefined ? { fps: parseFps(fps) } : {}),
  };
  const name = str(values, 'name') ?? defaultChannelName(input);
  const badName = channelNameProblem(name);
  if (badName !== undefined) throw new UserError(`--name: ${badName}`);
  const guide = guideOptions(values);
  const shutdown = new Shutdown();
  const b = await startBroadcast({
    trackers: trackers(values),
    name,
    keyFile: str(values, 'key') ?? defaultKeyFile(),
    host: str(values, 'host') ?? '0.0.0.0',
    port: port(str(values, 'peer-port'), '--peer-port', 0),
    ...(str(values, 'announce-address') ? { announceAddress: str(values, 'announce-address') } : {}),
    ...(str(values, 'http-port') !== undefined ? { httpPort: port(str(values, 'http-port'), '--http-port', 0) } : {}),
    ...(str(values, 'http-host') !== undefined ? { httpHost: str(values, 'http-host') } : {}),
    ...(str(values, 'max-peers') !== undefined ? { maxPeers: positiveInt(str(values, 'max-peers'), '--max-peers') as number } : {}),
    input,
    encoding,
    ...(sourceLimit !== undefined ? { uploadLimit: parseSourceUploadLimit(sourceLimit, '--upload-limit') } : {}),
    ...(originLimit !== undefined ? { originLimit: parseOriginLimit(originLimit, '--origin-limit') } : {}),
    network: networkOptions(values),
    ...(guide !== undefined ? { guide } : {}),
    log,
  });
  if (b.keyCreated) log.info(`created a new channel key`);
  log.info(`broadcasting "${name}" from ${describeInput(input)}`);
  if (input.kind === 'rtmp') logObsSettings(log, input);
  else if (b.stats().chunksProduced === 0) log.info(`waiting for ${describeInput(input)}`);
  log.info(`stats: ${b.statsUrl}`);
  log.info(`web page: ${watchPageUrl(trackers(values)[0] as string, b.channelId)}`);
  process.stdout.write(`${b.uri}\n`);
  await tellBench({
    type: 'broadcasting',
    uri: b.uri,
    channelId: b.channelId,
    statsUrl: b.statsUrl,
  });
  return shutdown.until(
    [b],
    b.ended.then(() => 0),
  );
}

function defaultChannelName(input: InputSource): string {
  if (input.kind === 'testsrc') return 'test pattern';
  if (input.kind === 'file') return path.basename(input.path).replace(/\.[^.]*$/, '') || 'live';
  return 'live';
}

/** Where OBS (Settings > Stream, Service "Custom...") must push to. */
function logObsSettings(log: Logger, input: Extract<InputSource, { kind: 'rtmp' }>): void {
  const any = input.host === '0.0.0.0' || input.host === '::';
  const lan = Object.values(os.networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && a.family === 'IPv4' && !a.internal)
    .map((a) => (a as os.NetworkInterfaceInfo).address)
    .slice(0, 3);
  const hosts = any ? ['127.0.0.1', ...lan] : [input.host];
  log.info('waiting for a push from OBS (Settings > Stream, Service "Custom..."):');
  log.info(`  Server:     ${hosts.map((h) => rtmpServerUrl({ ...input, host: h })).join('  or  ')}`);
  log.info(`  Stream Key: ${input.streamKey}`);
  if (input.keyGenerated) log.info(`  (a new key each run; to keep one, put it in the URL: ${rtmpServerUrl(input)}/KEY)`);
}
