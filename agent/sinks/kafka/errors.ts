// Kafka client failures -> EdgelogError, the same for every engine. Both
// clients wrap the error that mattered (kafkajs: KafkaJSNumberOfRetriesExceeded
// / KafkaJSNonRetriableError around a protocol or connection error;
// @platformatic/kafka: MultipleErrors / ResponseError around ProtocolError or
// NetworkError), so each engine's finder looks down its chain for the broker's
// error type, and one table decides retriable from it:
//   too large (MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE) -> RecordTooLargeError, never retried as is;
//   producer-state errors (sequence/epoch/producer id)    -> retriable, after a new producer session;
//   authorization, bad config, unsupported features         -> not retriable;
//   connection, leader moves, timeouts, everything else     -> retriable.

import { RecordTooLargeError, SinkSendError, type EdgelogError } from '../../core/errors.ts';

/** A failed Kafka request, with the broker's (or kafkajs's) reason. */
export class KafkaSendError extends SinkSendError {
  /** Kafka error type (e.g. NOT_LEADER_OR_FOLLOWER) or kafkajs error name (e.g. KafkaJSConnectionError). */
  readonly reason: string;
  constructor(reason: string, message: string, retriable: boolean, cause?: unknown) {
    super(`kafka: ${reason}: ${message}`, retriable, cause, retriable ? 'EDGELOG_SINK_SEND' : invalidRecord.has(reason) ? 'EDGELOG_RECORD_INVALID' : 'EDGELOG_SINK_DENIED');
    this.reason = reason;
  }
}

const tooLarge = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/** Permanent answers about the record itself (dead letter it); every other permanent one is about the destination. */
const invalidRecord = new Set(['INVALID_RECORD', 'CORRUPT_MESSAGE', 'INVALID_TIMESTAMP']);

/** The idempotent producer's session is broken; a new producer (new id/epoch) fixes it. */
export const producerStateErrors = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH', 'INVALID_PRODUCER_ID_MAPPING',
  'DUPLICATE_SEQUENCE_NUMBER', 'PRODUCER_FENCED',
]);

/** Broker answers that no retry of the same request will change. */
const permanent = new Set([
  'TOPIC_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'SASL_AUTHENTICATION_FAILED', 'UNSUPPORTED_SASL_MECHANISM', 'ILLEGAL_SASL_STATE',
  'UNSUPPORTED_COMPRESSION_TYPE', 'UNSUPPORTED_VERSION', 'UNSUPPORTED_FOR_MESSAGE_FORMAT',
  'INVALID_RECORD', 'CORRUPT_MESSAGE', 'INVALID_TIMESTAMP', 'INVALID_TOPIC_EXCEPTION', 'INVALID_REQUIRED_ACKS', 'POLICY_VIOLATION', 'INVALID_CONFIG',
  'KafkaJSSASLAuthenticationError', 'KafkaJSNotImplemented', 'KafkaJSServerDoesNotSupportApiKey',
  // @platformatic/kafka's own (non-protocol) error codes that no retry changes
  'PLT_KFK_AUTHENTICATION', 'PLT_KFK_USER', 'PLT_KFK_UNSUPPORTED', 'PLT_KFK_UNSUPPORTED_API',
  'PLT_KFK_UNSUPPORTED_COMPRESSION', 'PLT_KFK_UNSUPPORTED_FORMAT',
]);

interface Found { reason: string; message: string; kafkajsRetriable: boolean | undefined }

/** The most specific error in kafkajs's cause chain. */
export function rootCause(err: unknown): Found {
  let fallback: Found | null = null;
  const seen = new Set<unknown>();
  let e = err as { name?: string; type?: string; message?: string; retriable?: boolean; cause?: unknown; originalError?: unknown } | undefined;
  while (e && typeof e === 'object' && !seen.has(e)) {
    seen.add(e);
    if (typeof e.type === 'string' && e.type) return { reason: e.type, message: e.message ?? '', kafkajsRetriable: e.retriable };
    const generic = e.name === 'KafkaJSNumberOfRetriesExceeded' || e.name === 'KafkaJSNonRetriableError' || e.name === 'KafkaJSError';
    if (!generic && !fallback) fallback = { reason: e.name ?? 'Error', message: e.message ?? '', kafkajsRetriable: e.retriable };
    e = (e.cause ?? e.originalError) as typeof e;
  }
  if (fallback) return fallback;
  const top = err as { name?: string; message?: string } | undefined;
  return { reason: top?.name ?? 'Error', message: top?.message ?? String(err), kafkajsRetriable: true };
}

export interface MappedError { error: EdgelogError; resetProducer: boolean }

/** kafkajs error -> sink error. */
export function mapKafkaError(err: unknown, largestBytes: number, limitBytes: number): MappedError {
  return classify(rootCause(err), err, largestBytes, limitBytes);
}

interface PltError { code?: string; apiId?: string; message?: string; serverErrorMessage?: string | null; errors?: unknown[]; cause?: unknown }

/**
 * The most specific error in @platformatic/kafka's chain: a broker error
 * (ProtocolError, `apiId` like MESSAGE_TOO_LARGE) wins, latest attempt first
 * (MultipleErrors lists its retries in order); else the first non-aggregate
 * library error (PLT_KFK_NETWORK, PLT_KFK_TIMEOUT, ...), with the socket's
 * reason (ECONNREFUSED) in the message.
 */
export function platformaticRootCause(err: unknown): Found {
  let fallback: Found | null = null;
  const seen = new Set<unknown>();
  const walk = (x: unknown): Found | null => {
    if (!x || typeof x !== 'object' || seen.has(x)) return null;
    seen.add(x);
    const e = x as PltError;
    if (typeof e.apiId === 'string' && e.apiId) return { reason: e.apiId, message: e.serverErrorMessage || e.message || '', kafkajsRetriable: undefined };
    if (Array.isArray(e.errors)) {
      for (let i = e.errors.length - 1; i >= 0; i--) { const f = walk(e.errors[i]); if (f) return f; }
    } else if (!fallback && typeof e.code === 'string' && e.code.startsWith('PLT_KFK_') && e.code !== 'PLT_KFK_MULTIPLE' && e.code !== 'PLT_KFK_RESPONSE') {
      const inner = (e.cause as { message?: string } | undefined)?.message;
      fallback = { reason: e.code, message: inner ? `${e.message ?? ''} (${inner})` : e.message ?? '', kafkajsRetriable: undefined };
    }
    return walk(e.cause);
  };
  const found = walk(err);
  if (found) return found;
  if (fallback) return fallback;
  const top = err as { name?: string; code?: string; message?: string } | undefined;
  return { reason: top?.code ?? top?.name ?? 'Error', message: top?.message ?? String(err), kafkajsRetriable: true };
}

/** @platformatic/kafka error -> sink error (same table as kafkajs's). */
export function mapPlatformaticError(err: unknown, largestBytes: number, limitBytes: number): MappedError {
  return classify(platformaticRootCause(err), err, largestBytes, limitBytes);
}

function classify(f: Found, err: unknown, largestBytes: number, limitBytes: number): MappedError {
  if (tooLarge.has(f.reason)) {
    const e = new RecordTooLargeError(largestBytes, limitBytes);
    (e as { cause?: unknown }).cause = err;
    return { error: e, resetProducer: false };
  }
  if (producerStateErrors.has(f.reason)) return { error: new KafkaSendError(f.reason, f.message, true, err), resetProducer: true };
  if (permanent.has(f.reason)) return { error: new KafkaSendError(f.reason, f.message, false, err), resetProducer: false };
  // Connection refused/closed, timeouts, leader elections, metadata: the same request can succeed later.
  return { error: new KafkaSendError(f.reason, f.message, true, err), resetProducer: false };
}
