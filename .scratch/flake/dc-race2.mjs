// native offerer (node-datachannel polyfill) -> busy Chrome answerer

import { cleanup } from 'node-datachannel';
import { RTCPeerConnection } from 'node-datachannel/polyfill';
import { chromium } from 'playwright-core';

const negotiated = process.argv[2] === 'negotiated';
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const pageB = await browser.newPage();
await pageB.goto('about:blank');
await pageB.evaluate(() =>
  setInterval(() => {
    const t = performance.now();
    while (performance.now() - t < 30);
  }, 1),
);
const gathered = (pc) =>
  new Promise((r) => {
    if (pc.iceGatheringState === 'complete') r();
    else pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r());
  });
let lost = 0,
  partial = 0,
  total = 0;
for (let i = 0; i < Number(process.argv[3] ?? 100); i++) {
  const pc = new RTCPeerConnection({ iceServers: [] });
  const ch = pc.createDataChannel('m', negotiated ? { negotiated: true, id: 0 } : { ordered: true });
  ch.addEventListener('open', () => {
    for (let k = 0; k < 3; k++) ch.send(new Uint8Array([k]));
  });
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  const answer = await pageB.evaluate(
    async ([sdp, neg]) => {
      const pc = new RTCPeerConnection();
      window.pc = pc;
      window.got = [];
      const listen = (ch) => {
        ch.binaryType = 'arraybuffer';
        ch.addEventListener('message', (e) => window.got.push(new Uint8Array(e.data)[0]));
      };
      if (neg) listen(pc.createDataChannel('m', { negotiated: true, id: 0 }));
      else pc.ondatachannel = (e) => listen(e.channel);
      await pc.setRemoteDescription({ type: 'offer', sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      await new Promise((r) => {
        if (pc.iceGatheringState === 'complete') r();
        else pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r();
      });
      return pc.localDescription.sdp;
    },
    [pc.localDescription.sdp, negotiated],
  );
  await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  await new Promise((r) => setTimeout(r, 400));
  const got = await pageB.evaluate(() => window.got);
  total++;
  if (got.length === 0) lost++;
  else if (got.join() !== '0,1,2') {
    partial++;
    console.log('partial', got);
  }
  await pageB.evaluate(() => window.pc.close());
  pc.close();
}
console.log({ negotiated, total, lost, partial });
await browser.close();
cleanup();
