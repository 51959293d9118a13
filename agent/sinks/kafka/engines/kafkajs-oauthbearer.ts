// SASL/OAUTHBEARER for engine kafkajs, replacing kafkajs's built-in
// authenticator, which ignores the broker's answer. A broker that rejects a
// token does not fail the SaslAuthenticate request: it answers with an error
// challenge (RFC 7628 section 3.2.2, JSON `{"status":"invalid_token"}`) and
// closes the connection when the client does anything but acknowledge it.
// kafkajs took that challenge for success, so a wrong or expired token showed
// as a retriable "Closed connection". Here a non-empty challenge is the
// authentication failure it is, with the broker's status in the message.

import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';

// The typings declare no message argument; the class takes one like every KafkaJSError.
const SaslAuthError = kafkajs.KafkaJSSASLAuthenticationError as unknown as new (message: string) => Error;

type SaslAuthenticate = (a: { request: { encode(): Promise<Buffer> }; response?: { decode(b: Buffer): Promise<unknown>; parse(b: unknown): Promise<unknown> } }) => Promise<unknown>;
type EncodeOAuthRequest = (sasl: object, token: { value: string }) => Promise<{ encode(): Promise<Buffer> }>;

// kafkajs's own encoder of the client's first message (RFC 7628 gs2 header, auth=Bearer, separators).
const encodeRequest = createRequire(import.meta.url)('kafkajs/src/protocol/sasl/oauthBearer/request.js') as EncodeOAuthRequest;

/** What the broker's error challenge says, or null for an empty (success) answer. */
export function oauthChallengeError(challenge: Buffer | null | undefined): string | null {
  if (!challenge || challenge.length === 0) return null;
  try {
    const j = JSON.parse(challenge.toString('utf8')) as { status?: unknown };
    return typeof j.status === 'string' ? j.status : 'unknown error';
  } catch {
    return 'unreadable error challenge';
  }
}

function unframe(b: Buffer): Buffer {
  if (b.length < 4) return Buffer.alloc(0);
  const n = b.readInt32BE(0);
  return n <= 0 ? Buffer.alloc(0) : b.subarray(4, 4 + n);
}

export function oauthBearerSasl(token: () => Promise<string>): object {
  return {
    mechanism: 'oauthbearer',
    authenticationProvider: ({ saslAuthenticate }: { saslAuthenticate: SaslAuthenticate }) => ({
      authenticate: async (): Promise<void> => {
        const request = await encodeRequest({}, { value: await token() });
        let challenge: Buffer | null = null;
        await saslAuthenticate({
          request,
          // kafkajs hands over the auth bytes as Kafka BYTES (int32 length, then the data).
          response: { decode: async (b: Buffer) => unframe(b), parse: async (b: unknown) => { challenge = b as Buffer; return true; } },
        });
        const status = oauthChallengeError(challenge);
        if (status) throw new SaslAuthError(`SASL OAUTHBEARER authentication failed: the broker refused the token (${status})`);
      },
    }),
  };
}
