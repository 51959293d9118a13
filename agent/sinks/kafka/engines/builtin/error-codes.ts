// Kafka protocol error codes -> the error's name (the sink's KafkaSendError
// reason) and whether the same request may succeed if retried. Facts from the
// protocol specification's error table; codes not listed keep their number.

const table: Record<number, [string, boolean]> = {
  [-1]: ['UNKNOWN_SERVER_ERROR', false],
  1: ['OFFSET_OUT_OF_RANGE', false],
  2: ['CORRUPT_MESSAGE', true],
  3: ['UNKNOWN_TOPIC_OR_PARTITION', true],
  4: ['INVALID_FETCH_SIZE', false],
  5: ['LEADER_NOT_AVAILABLE', true],
  6: ['NOT_LEADER_OR_FOLLOWER', true],
  7: ['REQUEST_TIMED_OUT', true],
  8: ['BROKER_NOT_AVAILABLE', false],
  9: ['REPLICA_NOT_AVAILABLE', true],
  10: ['MESSAGE_TOO_LARGE', false],
  13: ['NETWORK_EXCEPTION', true],
  14: ['COORDINATOR_LOAD_IN_PROGRESS', true],
  15: ['COORDINATOR_NOT_AVAILABLE', true],
  16: ['NOT_COORDINATOR', true],
  17: ['INVALID_TOPIC_EXCEPTION', false],
  18: ['RECORD_LIST_TOO_LARGE', false],
  19: ['NOT_ENOUGH_REPLICAS', true],
  20: ['NOT_ENOUGH_REPLICAS_AFTER_APPEND', true],
  21: ['INVALID_REQUIRED_ACKS', false],
  29: ['TOPIC_AUTHORIZATION_FAILED', false],
  30: ['GROUP_AUTHORIZATION_FAILED', false],
  31: ['CLUSTER_AUTHORIZATION_FAILED', false],
  32: ['INVALID_TIMESTAMP', false],
  33: ['UNSUPPORTED_SASL_MECHANISM', false],
  34: ['ILLEGAL_SASL_STATE', false],
  35: ['UNSUPPORTED_VERSION', false],
  36: ['TOPIC_ALREADY_EXISTS', false],
  37: ['INVALID_PARTITIONS', false],
  38: ['INVALID_REPLICATION_FACTOR', false],
  39: ['INVALID_REPLICA_ASSIGNMENT', false],
  40: ['INVALID_CONFIG', false],
  41: ['NOT_CONTROLLER', true],
  42: ['INVALID_REQUEST', false],
  43: ['UNSUPPORTED_FOR_MESSAGE_FORMAT', false],
  44: ['POLICY_VIOLATION', false],
  45: ['OUT_OF_ORDER_SEQUENCE_NUMBER', false],
  46: ['DUPLICATE_SEQUENCE_NUMBER', false],
  47: ['INVALID_PRODUCER_EPOCH', false],
  48: ['INVALID_TXN_STATE', false],
  49: ['INVALID_PRODUCER_ID_MAPPING', false],
  50: ['INVALID_TRANSACTION_TIMEOUT', false],
  51: ['CONCURRENT_TRANSACTIONS', true],
  53: ['TRANSACTIONAL_ID_AUTHORIZATION_FAILED', false],
  56: ['KAFKA_STORAGE_ERROR', true],
  58: ['SASL_AUTHENTICATION_FAILED', false],
  59: ['UNKNOWN_PRODUCER_ID', false],
  74: ['FENCED_LEADER_EPOCH', true],
  75: ['UNKNOWN_LEADER_EPOCH', true],
  76: ['UNSUPPORTED_COMPRESSION_TYPE', false],
  87: ['INVALID_RECORD', false],
  89: ['THROTTLING_QUOTA_EXCEEDED', true],
  90: ['PRODUCER_FENCED', false],
};

/** A broker's error answer; `type` is the Kafka error name (errors.ts reads it as the reason). */
export class KafkaProtocolError extends Error {
  readonly type: string;
  readonly code: number;
  readonly retriable: boolean;
  constructor(code: number, detail: string) {
    const [type, retriable] = table[code] ?? [`KAFKA_ERROR_${code}`, false];
    super(detail ? `${type}: ${detail}` : type);
    this.name = 'KafkaProtocolError';
    this.type = type;
    this.code = code;
    this.retriable = retriable;
  }
}

/** Errors after which the metadata (leaders) must be fetched again. */
export const staleMetadata = new Set(['NOT_LEADER_OR_FOLLOWER', 'UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'FENCED_LEADER_EPOCH', 'UNKNOWN_LEADER_EPOCH', 'NETWORK_EXCEPTION', 'REQUEST_TIMED_OUT']);

/**
 * A failure of the connection itself, not an answer of the broker: named as
 * Kafka names it (NETWORK_EXCEPTION, REQUEST_TIMED_OUT), always retriable.
 */
export class KafkaNetworkError extends Error {
  readonly type: string;
  readonly retriable = true;
  constructor(type: 'NETWORK_EXCEPTION' | 'REQUEST_TIMED_OUT', message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'KafkaNetworkError';
    this.type = type;
  }
}
