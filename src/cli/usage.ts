// The `meshtv --help` text, and each command's own --help: one line per flag it takes.

export const USAGE = `meshtv — peer-to-peer live TV

Usage:
  meshtv tracker   [--host 127.0.0.1] [--port 8000] [--stun URL] [--turn URL] [--turn-secret SECRET]
                   [--signaling ws://STOCK-TRACKER] [--rate-limit 20 (requests/s per address; 0: none)]
                   [--trust-proxy ADDR|CIDR (a reverse proxy whose X-Forwarded-For is believed)]
                   [--private-network (peers may announce private addresses: LANs, labs)]
  meshtv broadcast [--input testsrc|FILE|-|udp://HOST:PORT|srt://HOST:PORT|rtmp://HOST:PORT/APP[/KEY]|URL]
                   [--loop] [--copy] [--video-bitrate 2500k] [--audio-bitrate 128k] [--resolution 1280x720|720p]
                   [--renditions [NAME=]HEIGHTp[@RATE],... (e.g. 360p,720p)] [--fps N]
                   [--tracker URL] [--name NAME] [--key FILE] [--host ADDR] [--peer-port N]
                   [--announce-address ADDR] [--max-peers N] [--upload-limit RATE|unlimited] [--http-port N]
                   [--http-host ADDR] [--origin-limit RATE|off] [--stun URL] [--turn URL]
                   [--no-dht | --dht-bootstrap HOST:PORT] [--category TEXT] [--language en|fr|pt-BR...]
                   [--description TEXT] [--logo PNG|JPEG] [--schedule XMLTV|JSON (edited live: re-read on change)]
  meshtv watch <uri|id|name> [--player vlc|mpv|ffplay] [--tracker URL] [--http-port 8902]
                   [--http-host 127.0.0.1] [--host ADDR] [--peer-port N] [--announce-address ADDR] [--max-peers N]
                   [--upload-limit RATE (e.g. 2mbit) | --no-upload] [--quality auto|NAME] [--stun URL] [--turn URL]
                   [--no-dht | --dht-bootstrap HOST:PORT] [--timeshift 30m [--timeshift-max-size 2G]]
  meshtv tv        [--tracker URL] [--http-port 8903] [--lan | --http-host ADDR] [--max-channels 4]
                   [--linger 30s] [--host ADDR] [--peer-port N] [--upload-limit RATE | --no-upload]
                   [--timeshift 30m|off] [--no-dht | --dht-bootstrap HOST:PORT]   (a playlist for TV apps)
  meshtv channels  [--tracker URL] [--json]
  meshtv demo      [--port 8000] [--http-port 8902]
  meshtv bench     [--peers 20] [--duration-s 30] [--rho 1.25] [--free-riders 0.2] [--churn SHARE_PER_MIN]
                   [--hosts 4] [--netns [--told-caps]] [--restart-tracker-at-s T] [--restart-source-at-s T]
                   [--source-upload-limit RATE] [--video-bitrate RATE] [--out DIR] [--json]
  meshtv sim       [--peers 200[,N...]] [--duration-s 60] [--rho 1.25] [--free-riders 0.2] [--churn PER_MIN]
                   [--flash-crowd-s 10] [--seed 1[,S...]] [--jobs J] [--out DIR] [--json] [--progress]
                   (meshtv sim --help lists every flag)

Common flags: --log-level debug|info|warn|error, --log-format text|json, --help.
Every flag may also be set by the environment (MESHTV_<FLAG>, e.g. MESHTV_UPLOAD_LIMIT=2mbit) or
the config file (MESHTV_CONFIG, default ~/.meshtv/config.json, e.g. {"watch": {"http-port": 8910}});
a flag wins over the environment, which wins over the file. --tracker may be repeated.
STUN/TURN (for WebRTC peers behind NAT; none by default, the trackers may hand some out):
--stun stun:HOST:PORT, --turn turn:USER:PASS@HOST:PORT[?transport=tcp], both repeatable. A tracker
started with --turn turn:HOST:PORT --turn-secret S hands out time-limited credentials for a TURN
server that shares S (coturn: use-auth-secret, static-auth-secret=S).
A tracker started with --signaling wss://HOST sends WebRTC signalling to that WebTorrent tracker
(e.g. a scaled bittorrent-tracker) instead of its own /announce.
Broadcasters and viewers also meet through the BitTorrent DHT, so a channel stays findable with
every tracker down: --dht-bootstrap HOST:PORT (repeatable) names the nodes to join through
(default: the DHT's public routers); --no-dht turns it off.
`;

/** What a command does, and its arguments besides flags. */
const COMMANDS: Record<string, { synopsis: string; about: string }> = {
  tracker: {
    synopsis: 'meshtv tracker [flags]',
    about: 'Runs a tracker: the channel directory, peer lists, WebRTC signalling and the web pages.',
  },
  broadcast: {
    synopsis: 'meshtv broadcast [flags]',
    about: 'Broadcasts a channel: encodes an input, signs its chunks and hands them to the swarm.',
  },
  watch: {
    synopsis: 'meshtv watch <uri|id|name> [flags]',
    about: 'Watches a channel (its meshtv:// URI, its 64-hex id, or its name) in a player or at a local URL.',
  },
  tv: {
    synopsis: 'meshtv tv [flags]',
    about:
      'Serves every live channel to TV apps (VLC, Kodi IPTV Simple, TiviMate): /playlist.m3u and /epg.xml;\n' +
      'a channel is joined when an app asks for it and left a while after the app moved on.',
  },
  channels: { synopsis: 'meshtv channels [flags]', about: 'Lists the live channels the trackers know.' },
  demo: { synopsis: 'meshtv demo [flags]', about: 'Starts a tracker, a test-pattern channel and viewers on this machine.' },
  bench: {
    synopsis: 'meshtv bench [flags]',
    about:
      "Starts a tracker, a broadcaster and N viewers as real processes (viewers' uploads capped to meet\n" +
      'rho), then serves the same stream to N clients from one HTTP server, and reports both side by side:\n' +
      'S (broadcaster upload / stream), continuity, lag, startup, overhead, CPU and memory per viewer.',
  },
};

/** One line per flag; per command where a flag means something of its own there. */
const FLAG_DOCS: Record<string, Record<string, string>> = {
  common: {
    tracker: '--tracker URL           a tracker to use (repeatable; default http://127.0.0.1:8000)',
    host: '--host ADDR             address the peer listener binds (default 0.0.0.0)',
    'peer-port': '--peer-port N           TCP port for peers (default: any free one)',
    'announce-address': '--announce-address ADDR address other peers should dial (behind NAT: the public one)',
    'max-peers': '--max-peers N           most neighbours at once',
    'http-port': '--http-port N           local HTTP port for stats.json, metrics and the stream',
    'http-host': '--http-host ADDR        address the local HTTP server binds (default 127.0.0.1)',
    stun: '--stun stun:HOST:PORT   a STUN server for WebRTC peers (repeatable)',
    turn: '--turn turn:USER:PASS@HOST:PORT  a TURN relay for WebRTC peers (repeatable)',
    'no-dht': '--no-dht                do not meet peers through the BitTorrent DHT',
    'dht-bootstrap': '--dht-bootstrap HOST:PORT  DHT nodes to join through (repeatable)',
    json: '--json                  print JSON instead of text',
    out: '--out DIR               write the report and plots there',
    'log-level': '--log-level LEVEL       debug, info, warn or error (default info)',
    'log-format': '--log-format FORMAT     text or json (default text)',
  },
  tracker: {
    host: '--host ADDR             address to listen on (default 127.0.0.1)',
    port: '--port N                port to listen on (default 8000)',
    'rate-limit': '--rate-limit N          requests per second per address (default 20; 0: none)',
    'trust-proxy': '--trust-proxy ADDR|CIDR  a reverse proxy whose X-Forwarded-For is believed (repeatable)',
    'private-network': '--private-network       let peers announce private addresses (LANs, labs)',
    signaling: '--signaling wss://HOST  send WebRTC signalling to this WebTorrent tracker instead (repeatable)',
    'turn-secret': '--turn-secret SECRET    hand out time-limited credentials for the --turn server',
    stun: '--stun stun:HOST:PORT   a STUN server to hand out to peers (repeatable)',
    turn: '--turn turn:HOST:PORT   a TURN server to hand out to peers (repeatable)',
  },
  broadcast: {
    input: '--input WHAT            testsrc (default), FILE, - (stdin), udp://, srt://, rtmp://HOST:PORT/APP[/KEY] or a URL',
    loop: '--loop                  play a file input over and over',
    copy: '--copy                  pass the input through without re-encoding',
    'video-bitrate': '--video-bitrate RATE    video bitrate (default 2500k)',
    'audio-bitrate': '--audio-bitrate RATE    audio bitrate (default 128k)',
    resolution: '--resolution WxH|NNNp   output picture size (e.g. 1280x720 or 720p)',
    renditions: '--renditions LADDER     quality ladder, e.g. 360p,720p or low=180p@150k,high=360p@700k',
    fps: '--fps N                 frames per second',
    name: '--name NAME             the channel name shown in the directory',
    key: '--key FILE              channel key file (made on first use; keep it: it is the channel)',
    'upload-limit': '--upload-limit RATE|unlimited  most upload to the swarm (default: 1.8 copies of the stream)',
    'http-port': '--http-port N           port of the HTTP origin for browsers, and of stats.json (default: any free one)',
    'http-host': '--http-host ADDR        address it binds (default --host; stats and metrics then answer this machine only)',
    'origin-limit': "--origin-limit RATE|off  the HTTP origin's upload for browsers without peers (default: 3 copies of the stream)",
    category: '--category TEXT         what kind of channel it is (News, Sport, Music...), for the guide and filters',
    language: '--language TAG          its language as a BCP 47 tag (en, fr, pt-BR)',
    description: '--description TEXT      a line about the channel, shown in the directory',
    logo: '--logo FILE             a PNG or JPEG logo (at most 64 KiB)',
    schedule: '--schedule FILE         programmes: XMLTV or a JSON list of {start, stop, title, description}; re-read when edited',
  },
  watch: {
    player: '--player vlc|mpv|ffplay  start this player on the stream',
    quality: '--quality auto|NAME     a rendition to stay on (default auto: adapt)',
    'upload-limit': '--upload-limit RATE|unlimited  most upload to other viewers (e.g. 2mbit; default unlimited)',
    'no-upload': '--no-upload             upload nothing to other viewers',
    'http-port': '--http-port N           local port of the stream and stats (default 8902)',
    timeshift: '--timeshift DURATION    keep this much on disk to pause and rewind (90s, 30m, 2h; default off)',
    'timeshift-max-size': '--timeshift-max-size SIZE  most disk for it (500M, 2G; default: the window at 1.5x the rate, at most 2G)',
  },
  tv: {
    'http-port': '--http-port N           port of the playlist and the channels (default 8903)',
    'http-host': '--http-host ADDR        address the gateway binds (default 127.0.0.1)',
    lan: '--lan                   serve the home network too (binds 0.0.0.0: TV apps on other devices)',
    'max-channels': '--max-channels N        most channels joined at once (default 4)',
    linger: '--linger TIME           stay in a channel this long after its last player left (default 30s)',
    'upload-limit': '--upload-limit RATE|unlimited  most upload to other viewers, per channel (default unlimited)',
    'no-upload': '--no-upload             upload nothing to other viewers',
    timeshift: '--timeshift DURATION    per channel, keep this much on disk to pause and rewind (default 30m; off)',
  },
  demo: {
    port: "--port N                the tracker's port (default 8000)",
    'http-port': "--http-port N           the first viewer's local port (default 8902)",
    key: "--key FILE              the demo channel's key file",
  },
  bench: {
    peers: '--peers N               viewers (default 20)',
    'duration-s': '--duration-s S          seconds of stream (default 30)',
    rho: "--rho R                 resource index: (source + viewers' upload) / (N x r) (default 1.25)",
    'free-riders': '--free-riders F         share of viewers that upload nothing (default 0.2)',
    churn: '--churn SHARE_PER_MIN   share of viewers killed and replaced per minute',
    hosts: '--hosts N               host processes the viewers share (default 4)',
    netns: '--netns                 cap links with tc in network namespaces (root)',
    'told-caps': '--told-caps             with --netns, tell each viewer its cap too (as --upload-limit does)',
    'restart-tracker-at-s': '--restart-tracker-at-s T  kill and restart the tracker at T s',
    'restart-source-at-s': '--restart-source-at-s T  kill and restart the broadcaster at T s',
    'source-upload-limit': "--source-upload-limit RATE  the broadcaster's upload cap",
    'video-bitrate': "--video-bitrate RATE    the test channel's video bitrate",
  },
};

/** The line of a command's flag (undefined: none written, which a test catches). */
export function flagDoc(command: string, flag: string): string | undefined {
  return FLAG_DOCS[command]?.[flag] ?? FLAG_DOCS.common?.[flag];
}

/** A command's --help: what it does, then its flags, one line each (the global help for others). */
export function commandUsage(command: string, flags: readonly string[]): string {
  const c = COMMANDS[command];
  if (c === undefined) return USAGE;
  const lines = flags.filter((f) => f !== 'help').map((f) => `  ${flagDoc(command, f) ?? `--${f}`}`);
  return `${c.about}\n\nUsage: ${c.synopsis}\n\nFlags:\n${lines.join('\n')}\n  --help                  this text\n\nEvery flag may also be set as MESHTV_<FLAG> or in the config file (meshtv --help says how).\n`;
}
