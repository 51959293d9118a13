// Is there a Kafka broker at this address at all? A port that answers but is
// not Kafka (an HTTP server, sshd, a database) looks to a Kafka client like a
// broker that never answers: it waits for a length-prefixed response that
// never comes, shows "connecting" and ends with "Request timed out". This
// sends the one request every Kafka broker answers before authentication,
// ApiVersions v0, and reads the reply's frame: a Kafka answer is a sane size
// followed by our correlation id. Anything else is named, with the first
// bytes the peer sent when they are text ("HTTP/1.1 400 Bad Request",
// "SSH-2.0-OpenSSH_9.6"), so the operator sees the mistake at once.
//
// Plaintext listeners only: a TLS listener answers a plaintext request with a
// TLS alert or nothing at all, which says nothing about Kafka, so callers skip
// the check when the sink uses TLS.
//
// Wire format (Kafka protocol guide): request = int32 size, int16 api_key
// (18 = ApiVersions), int16 api_version (0), int32 correlation_id, nullable
// string client_id (int16 length + bytes); response = int32 size, int32
// correlation_id, int16 error_code, ...

import { connect } from 'node:net';

export type HandshakeResult =
  | { kind: 'kafka' }
  /** Answered, but not with a Kafka frame. */
  | { kind: 'not_kafka'; answer: string }
  /** Closed the connection without a reply. */
  | { kind: 'closed' }
  /** Accepted the connection and said nothing within the time allowed. */
  | { kind: 'silent' }
  /** Could not connect at all (refused, unreachable, DNS): the client's own error says it best. */
  | { kind: 'unreachable'; error: string };

const API_VERSIONS = 18;
const CORRELATION_ID = 0x65646765; // "edge"
/** The largest ApiVersions response is a few hundred bytes; a size beyond this is some other protocol's bytes read as a length. */
const MAX_SANE_RESPONSE = 1 << 20;

function apiVersionsV0(): Buffer {
  const clientId = Buffer.from('edgelog-check');
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length);
  body.writeInt16BE(API_VERSIONS, 0);
  body.writeInt16BE(0, 2);
  body.writeInt32BE(CORRELATION_ID, 4);
  body.writeInt16BE(clientId.length, 8);
  clientId.copy(body, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

/** The first bytes as the operator would recognise them: a text line when they are text, else hex. */
export function describeAnswer(b: Buffer): string {
  const head = b.subarray(0, 64);
  const text = head.toString('latin1');
  const line = text.split(/\r?\n/)[0]!;
  if (line.length >= 4 && /^[\x20-\x7e]+$/.test(line)) return `"${line}"`;
  return `bytes ${head.subarray(0, 16).toString('hex')}`;
}

/** Classify what answers at host:port. Never throws; resolves within about `timeoutMs`. */
export function checkKafkaHandshake(broker: string, timeoutMs: number): Promise<HandshakeResult> {
  const i = broker.lastIndexOf(':');
  const host = broker.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(broker.slice(i + 1));
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    let done = false;
    let connected = false;
    const finish = (r: HandshakeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const sock = connect({ host, port });
    const timer = setTimeout(() => finish(got.length > 0 ? judge(got, true) : connected ? { kind: 'silent' } : { kind: 'unreachable', error: `no TCP connection within ${timeoutMs} ms` }), timeoutMs);
    sock.on('connect', () => { connected = true; sock.write(apiVersionsV0()); });
    sock.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      const r = judge(got, false);
      if (r) finish(r);
    });
    sock.on('end', () => finish(got.length > 0 ? judge(got, true)! : { kind: 'closed' }));
    sock.on('error', (err) => finish(connected ? (got.length > 0 ? judge(got, true)! : { kind: 'closed' }) : { kind: 'unreachable', error: err.message }));
  });
}

/** Decide from the bytes so far; `final` when no more will come. null: need more bytes. */
function judge(b: Buffer, final: true): HandshakeResult;
function judge(b: Buffer, final: boolean): HandshakeResult | null;
function judge(b: Buffer, final: boolean): HandshakeResult | null {
  if (b.length < 8) return final ? { kind: 'not_kafka', answer: describeAnswer(b) } : null;
  const size = b.readInt32BE(0);
  const corr = b.readInt32BE(4);
  if (size >= 6 && size <= MAX_SANE_RESPONSE && corr === CORRELATION_ID) return { kind: 'kafka' };
  return { kind: 'not_kafka', answer: describeAnswer(b) };
}

/** The sentence for logs, /readyz and doctor; null when the result says nothing against Kafka. */
export function notKafkaReason(broker: string, r: HandshakeResult): string | null {
  if (r.kind === 'not_kafka') return `${broker} is not a Kafka broker: it answered a Kafka handshake (ApiVersions) with ${r.answer}`;
  if (r.kind === 'closed') return `${broker} is not a Kafka broker (or needs TLS): it closed the connection without answering a Kafka handshake (ApiVersions)`;
  return null;
}

/**
 * Checks every bootstrap broker at once; the first reason that says "not
 * Kafka", or null (Kafka answered, or nothing conclusive). Skipped (null)
 * with TLS, see above.
 */
export async function explainNotKafka(brokers: readonly string[], tls: boolean, timeoutMs = 3000): Promise<string | null> {
  if (tls || brokers.length === 0) return null;
  const results = await Promise.all(brokers.map((b) => checkKafkaHandshake(b, timeoutMs)));
  if (results.some((r) => r.kind === 'kafka')) return null;
  for (let i = 0; i < brokers.length; i++) {
    const reason = notKafkaReason(brokers[i]!, results[i]!);
    if (reason) return reason;
  }
  return null;
}
