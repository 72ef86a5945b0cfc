// Independent check of 8x8-style webhook signatures with the `jose` library (not the
// Rust code that signs them). Reads one JSON object on stdin:
//   { "jwk": {...}, "signature": "<x-8x8-signature>" (optional, else from headers),
//     "headers": { "x-8x8-...": "..." }, "body": "<raw body>", "bodyEncoding": "utf8"|"base64" }
// Rebuilds the signed payload itself (unsigned CRC-32 over the raw bytes, six keys in
// fixed order, compact) and verifies the detached RFC 7797 (b64:false) JWS with
// jose's flattenedVerify. Exit 0 = valid, 1 = invalid, 2 = bad input.
import { flattenedVerify, importJWK, decodeProtectedHeader } from 'jose';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0; // unsigned (P14)
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

let input;
try {
  input = JSON.parse(await readStdin());
} catch (e) {
  console.error(`bad input: ${e.message}`);
  process.exit(2);
}

try {
  const h = Object.fromEntries(
    Object.entries(input.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]),
  );
  const raw = Buffer.from(input.body ?? '', input.bodyEncoding === 'base64' ? 'base64' : 'utf8');
  const signature = input.signature ?? h['x-8x8-signature'];
  if (!signature) throw new Error('no x-8x8-signature');
  const parts = signature.split('.');
  if (parts.length !== 3 || parts[1] !== '') throw new Error('not a detached compact JWS');
  const header = decodeProtectedHeader(signature);
  if (header.alg !== 'RS256' || header.b64 !== false || !(header.crit ?? []).includes('b64')) {
    throw new Error(`unexpected protected header ${JSON.stringify(header)}`);
  }
  const int = (name) => {
    const v = h[name];
    if (!/^\d+$/.test(v ?? '')) throw new Error(`header ${name} is not an integer`);
    return Number.parseInt(v, 10);
  };
  const checksum = crc32(raw);
  const payload =
    `{"checksum":${checksum},"cid":${JSON.stringify(h['x-8x8-customer-id'])},` +
    `"eid":${JSON.stringify(h['x-8x8-event-id'])},"retry":${int('x-8x8-retry')},` +
    `"tid":${JSON.stringify(h['x-8x8-tenant-id'])},"tt":${int('x-8x8-transmission-time')}}`;
  const key = await importJWK({ ...input.jwk, alg: 'RS256' }, 'RS256');
  await flattenedVerify({ protected: parts[0], payload, signature: parts[2] }, key, {
    algorithms: ['RS256'],
  });
  console.log(JSON.stringify({ ok: true, kid: header.kid, checksum }));
  process.exit(0);
} catch (e) {
  console.error(`invalid: ${e.message}`);
  process.exit(1);
}
