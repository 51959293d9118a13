// SASL on a fresh broker connection (SaslHandshake v1, then SaslAuthenticate
// frames): PLAIN, SCRAM-SHA-256/512 (RFC 5802 / RFC 7677 with node:crypto)
// and OAUTHBEARER (RFC 7628 client response with a bearer token).

import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SaslCredentials } from '../security.ts';
import type { Connection } from './connection.ts';
import { KafkaProtocolError } from './error-codes.ts';
import { Api, type BrokerVersions, decodeSaslAuthenticate, decodeSaslHandshake, encodeSaslAuthenticate, encodeSaslHandshake, pickVersion } from './protocol.ts';

export type SaslAuth = { kind: 'password'; creds: SaslCredentials } | { kind: 'token'; token: () => Promise<string> };

const mechanismName = { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512', oauthbearer: 'OAUTHBEARER' } as const;

export async function authenticate(conn: Connection, versions: BrokerVersions, auth: SaslAuth): Promise<void> {
  const mech = auth.kind === 'token' ? 'OAUTHBEARER' : mechanismName[auth.creds.mechanism];
  const hv = pickVersion(Api.SaslHandshake, versions);
  const hs = await conn.request(Api.SaslHandshake, hv, encodeSaslHandshake(mech), decodeSaslHandshake);
  if (hs.error !== 0) throw new KafkaProtocolError(hs.error, `${mech} (broker offers ${hs.mechanisms.join(', ') || 'none'})`);
  const av = pickVersion(Api.SaslAuthenticate, versions);
  const step = (b: Buffer) => conn.request(Api.SaslAuthenticate, av, encodeSaslAuthenticate(b), decodeSaslAuthenticate);
  if (auth.kind === 'token') {
    const token = await auth.token();
    await step(Buffer.from(`n,,\x01auth=Bearer ${token}\x01\x01`));
    return;
  }
  const { username, password, mechanism } = auth.creds;
  if (mechanism === 'plain') {
    await step(Buffer.from(`\0${username}\0${password}`));
    return;
  }
  await scram(step, mechanism === 'scram-sha-256' ? 'sha256' : 'sha512', username, password);
}

const hmac = (alg: string, key: Buffer, data: string | Buffer): Buffer => createHmac(alg, key).update(data).digest();

async function scram(step: (b: Buffer) => Promise<Buffer>, alg: 'sha256' | 'sha512', user: string, password: string): Promise<void> {
  const nonce = randomBytes(24).toString('base64');
  const bare = `n=${user.replace(/=/g, '=3D').replace(/,/g, '=2C')},r=${nonce}`;
  const first = (await step(Buffer.from(`n,,${bare}`))).toString();
  const attrs = new Map(first.split(',').map((kv) => [kv[0]!, kv.slice(2)] as const));
  const r = attrs.get('r') ?? '';
  const salt = Buffer.from(attrs.get('s') ?? '', 'base64');
  const iterations = Number(attrs.get('i'));
  if (!r.startsWith(nonce) || !Number.isInteger(iterations) || iterations < 1) throw new KafkaProtocolError(58, 'SCRAM: the server-first message is invalid');
  const salted = pbkdf2Sync(password, salt, iterations, alg === 'sha256' ? 32 : 64, alg);
  const clientKey = hmac(alg, salted, 'Client Key');
  const storedKey = createHash(alg).update(clientKey).digest();
  const withoutProof = `c=biws,r=${r}`;
  const authMessage = `${bare},${first},${withoutProof}`;
  const sig = hmac(alg, storedKey, authMessage);
  const proof = Buffer.alloc(clientKey.length);
  for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i]! ^ sig[i]!;
  const final = (await step(Buffer.from(`${withoutProof},p=${proof.toString('base64')}`))).toString();
  const v = /(?:^|,)v=([^,]*)/.exec(final)?.[1];
  const expected = hmac(alg, hmac(alg, salted, 'Server Key'), authMessage);
  const got = Buffer.from(v ?? '', 'base64');
  if (got.length !== expected.length || !timingSafeEqual(got, expected)) throw new KafkaProtocolError(58, 'SCRAM: the server signature does not verify');
}
