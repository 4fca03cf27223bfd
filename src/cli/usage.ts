// The `meshtv --help` text, printed by every command's --help.

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
                   [--http-host 127.0.0.1] [--stun URL] [--turn URL]
                   [--no-dht | --dht-bootstrap HOST:PORT]
  meshtv watch <uri|id|name> [--player vlc|mpv|ffplay] [--tracker URL] [--http-port 8902]
                   [--http-host 127.0.0.1] [--host ADDR] [--peer-port N] [--announce-address ADDR] [--max-peers N]
                   [--upload-limit RATE (e.g. 2mbit) | --no-upload] [--quality auto|NAME] [--stun URL] [--turn URL]
                   [--no-dht | --dht-bootstrap HOST:PORT]
  meshtv channels  [--tracker URL] [--json]
  meshtv demo      [--port 8000] [--http-port 8902]
  meshtv bench     [--peers 20] [--duration-s 30] [--rho 1.25] [--free-riders 0.2] [--churn SHARE_PER_MIN]
                   [--hosts 4] [--netns] [--restart-tracker-at-s T] [--restart-source-at-s T]
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

export function help(): number {
  process.stdout.write(USAGE);
  return 0;
}
