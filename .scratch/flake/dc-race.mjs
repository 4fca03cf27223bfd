import { chromium } from 'playwright-core';

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const negotiated = process.argv[2] === 'negotiated';
const pageA = await browser.newPage();
const pageB = await browser.newPage();
await pageA.goto('about:blank');
await pageB.goto('about:blank');
await pageB.evaluate(() =>
  setInterval(() => {
    const t = performance.now();
    while (performance.now() - t < 15);
  }, 1),
);
await pageA.evaluate(() =>
  setInterval(() => {
    const t = performance.now();
    while (performance.now() - t < 15);
  }, 1),
);
// B answers; A offers; signalling through node
let lost = 0,
  partial = 0,
  total = 0;
for (let i = 0; i < Number(process.argv[3] ?? 100); i++) {
  const offer = await pageA.evaluate(async (neg) => {
    const pc = new RTCPeerConnection();
    window.pc = pc;
    const ch = pc.createDataChannel('m', neg ? { negotiated: true, id: 0 } : { ordered: true });
    ch.binaryType = 'arraybuffer';
    ch.onopen = () => {
      for (let k = 0; k < 3; k++) ch.send(new Uint8Array([k]));
    };
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((r) => {
      if (pc.iceGatheringState === 'complete') r();
      else pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r();
    });
    return pc.localDescription.sdp;
  }, negotiated);
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
    [offer, negotiated],
  );
  await pageA.evaluate((sdp) => window.pc.setRemoteDescription({ type: 'answer', sdp }), answer);
  await new Promise((r) => setTimeout(r, 300));
  const got = await pageB.evaluate(() => window.got);
  total++;
  if (got.length === 0) lost++;
  else if (got.join() !== '0,1,2') {
    partial++;
    console.log('partial', got);
  }
  await pageA.evaluate(() => window.pc.close());
  await pageB.evaluate(() => window.pc.close());
}
console.log({ negotiated, total, lost, partial });
await browser.close();
