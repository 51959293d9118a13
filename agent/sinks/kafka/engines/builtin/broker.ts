// A ready broker connection: connected, versions agreed (ApiVersions v0, the
// one version every broker answers), authenticated when SASL is configured.

import type * as tls from 'node:tls';
import { Connection } from './connection.ts';
import { Api, type BrokerVersions, decodeApiVersions } from './protocol.ts';
import { authenticate, type SaslAuth } from './sasl.ts';

export interface BrokerOptions {
  tls?: tls.ConnectionOptions;
  sasl?: SaslAuth;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  clientId: string;
}

export interface Broker { conn: Connection; versions: BrokerVersions }

export async function connectBroker(host: string, port: number, o: BrokerOptions): Promise<Broker> {
  const conn = await Connection.open({ host, port, tls: o.tls, connectTimeoutMs: o.connectTimeoutMs, requestTimeoutMs: o.requestTimeoutMs, clientId: o.clientId });
  try {
    const versions = await conn.request(Api.ApiVersions, 0, [], decodeApiVersions);
    if (o.sasl) await authenticate(conn, versions, o.sasl);
    return { conn, versions };
  } catch (e) {
    conn.close();
    throw e;
  }
}

/** "host:port" -> [host, port] (IPv6 in brackets allowed). */
export function parseAddress(a: string): [string, number] {
  const i = a.lastIndexOf(':');
  return [a.slice(0, i).replace(/^\[|\]$/g, ''), Number(a.slice(i + 1))];
}
