// kafkajs failures -> EdgelogError. kafkajs wraps the error that mattered
// (KafkaJSNumberOfRetriesExceeded / KafkaJSNonRetriableError around a
// protocol or connection error), so we look down the cause chain for the
// broker's error type and decide retriable from it:
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
    super(`kafka: ${reason}: ${message}`, retriable, cause);
    this.reason = reason;
  }
}

const tooLarge = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

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
  'INVALID_RECORD', 'INVALID_TOPIC_EXCEPTION', 'INVALID_REQUIRED_ACKS', 'POLICY_VIOLATION', 'INVALID_CONFIG',
  'KafkaJSSASLAuthenticationError', 'KafkaJSNotImplemented', 'KafkaJSServerDoesNotSupportApiKey',
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

export function mapKafkaError(err: unknown, largestBytes: number, limitBytes: number): MappedError {
  const f = rootCause(err);
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
