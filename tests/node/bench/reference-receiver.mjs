// A reference 8x8 webhook receiver written the way 8x8's docs show it: Node's http
// server and the `jose` package. It does what the relay's receiver does before it
// stores anything — raw body, JSON body, freshness of the transmission time, tenant,
// the signing key fetched once per kid from the JWK endpoint and cached, CRC-32 and the
// detached RS256 JWS (RFC 7797, b64:false) over the rebuilt payload — and then answers
// 204, or 401 when the delivery does not verify. It stores nothing. bench-ingest starts
// it and compares it with the relay on the same signed deliveries.
//
//   node reference-receiver.mjs --jwk-base http://127.0.0.1:PORT --tenant T [--window-ms N]
//
// Prints "listening http://127.0.0.1:PORT" when ready. GET /stats answers
// {"valid","invalid","keyFetches"}: what it has seen, so a run can prove it verified.
import { createServer } from "node:http";
import { crc32 } from "node:zlib";
import { parseArgs } from "node:util";
import { flattenedVerify, importJWK, decodeProtectedHeader } from "jose";

const { values: opts } = parseArgs({
  options: {
    "jwk-base": { type: "string" },
    tenant: { type: "string" },
    "window-ms": { type: "string", default: String(5 * 60 * 1000) },
    port: { type: "string", default: "0" },
  },
});
if (!opts["jwk-base"] || !opts.tenant) {
  console.error("usage: reference-receiver.mjs --jwk-base URL --tenant T [--window-ms N] [--port P]");
  process.exit(2);
}
const jwkBase = opts["jwk-base"].replace(/\/$/, "");
const windowMs = Number(opts["window-ms"]);

const stats = { valid: 0, invalid: 0, keyFetches: 0 };
// kid → Promise of the imported key: one fetch per kid even under a burst. A failed
// fetch is not cached, so the next delivery tries again.
const keys = new Map();

function keyFor(kid) {
  let key = keys.get(kid);
  if (!key) {
    key = (async () => {
      stats.keyFetches++;
      const res = await fetch(`${jwkBase}/chat-gateway/v1/jwk/${encodeURIComponent(kid)}/public`);
      if (!res.ok) throw new Error(`JWK ${kid}: HTTP ${res.status}`);
      return importJWK({ ...(await res.json()), alg: "RS256" }, "RS256");
    })();
    keys.set(kid, key);
    key.catch(() => keys.delete(kid));
  }
  return key;
}

function int(headers, name) {
  const v = headers[name];
  if (!/^\d+$/.test(v ?? "")) throw new Error(`header ${name} is not an integer`);
  return Number.parseInt(v, 10);
}

async function verify(headers, raw) {
  if (!(headers["content-type"] ?? "").toLowerCase().startsWith("application/json")) {
    throw new Error("not JSON");
  }
  JSON.parse(raw.toString("utf8"));
  const tt = int(headers, "x-8x8-transmission-time");
  if (Math.abs(Date.now() - tt) > windowMs) throw new Error("stale");
  if (headers["x-8x8-tenant-id"] !== opts.tenant) throw new Error("wrong tenant");
  const signature = headers["x-8x8-signature"] ?? "";
  const parts = signature.split(".");
  if (parts.length !== 3 || parts[1] !== "") throw new Error("not a detached compact JWS");
  const header = decodeProtectedHeader(signature);
  if (header.alg !== "RS256" || header.b64 !== false || !(header.crit ?? []).includes("b64")) {
    throw new Error("unexpected protected header");
  }
  // The six keys in this order, compact, the CRC-32 unsigned (chat-gateway.md §7.3).
  const payload =
    `{"checksum":${crc32(raw)},"cid":${JSON.stringify(headers["x-8x8-customer-id"])},` +
    `"eid":${JSON.stringify(headers["x-8x8-event-id"])},"retry":${int(headers, "x-8x8-retry")},` +
    `"tid":${JSON.stringify(headers["x-8x8-tenant-id"])},"tt":${tt}}`;
  await flattenedVerify({ protected: parts[0], payload, signature: parts[2] }, await keyFor(header.kid), {
    algorithms: ["RS256"],
  });
}

const server = createServer((req, res) => {
  if (req.method === "GET" && req.url === "/stats") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(stats));
    return;
  }
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    verify(req.headers, Buffer.concat(chunks)).then(
      () => {
        stats.valid++;
        res.writeHead(204).end();
      },
      () => {
        stats.invalid++;
        res.writeHead(401).end();
      },
    );
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(opts.port), "127.0.0.1", () => {
  console.log(`listening http://127.0.0.1:${server.address().port}`);
});
process.on("SIGTERM", () => process.exit(0));
