// Wire constants of the edgelog forward protocol (agent -> relay), version 1.
// PROTOCOL.md in this folder is the normative description; every number here
// is quoted there. Plain `as const` objects, not enums (type stripping).

export const PROTOCOL_VERSION = 2;
/** Versions this implementation speaks (inclusive). Version 2 adds the authenticated handshake
 *  (AUTH_CHALLENGE / AUTH_RESPONSE); a relay that requires authentication refuses version-1 agents. */
export const MIN_VERSION = 1;
export const MAX_VERSION = 2;
/** First version with the AUTH_CHALLENGE / AUTH_RESPONSE exchange. */
export const AUTH_VERSION = 2;
/** Bytes of the receiver's nonce in AUTH_CHALLENGE and of the HMAC-SHA256 in AUTH_RESPONSE. */
export const NONCE_BYTES = 32;
export const PROOF_BYTES = 32;

/** Bytes of the length prefix. The length counts the type byte and the body, not itself. */
export const LENGTH_BYTES = 4;

export const FrameType = {
  HELLO: 0x01,
  HELLO_ACK: 0x02,
  BATCH: 0x03,
  ACK: 0x04,
  NACK: 0x05,
  HEARTBEAT: 0x06,
  HEARTBEAT_ACK: 0x07,
  GOAWAY: 0x08,
  AUTH_CHALLENGE: 0x09,
  AUTH_RESPONSE: 0x0a,
} as const;
export type FrameTypeValue = (typeof FrameType)[keyof typeof FrameType];

export const frameTypeName: Record<number, string> = {
  1: 'hello', 2: 'hello_ack', 3: 'batch', 4: 'ack', 5: 'nack', 6: 'heartbeat', 7: 'heartbeat_ack', 8: 'goaway',
  9: 'auth_challenge', 10: 'auth_response',
};

export const Compression = {
  NONE: 0,
  GZIP: 1,
  ZSTD: 2,
  LZ4: 3,
} as const;
export type CompressionName = 'none' | 'gzip' | 'zstd' | 'lz4';
export const compressionIds: Record<CompressionName, number> = { none: 0, gzip: 1, zstd: 2, lz4: 3 };
export const compressionNames: Record<number, CompressionName> = { 0: 'none', 1: 'gzip', 2: 'zstd', 3: 'lz4' };

/** Error codes carried by NACK and GOAWAY (u16). */
export const ErrorCode = {
  /** Frame does not follow the grammar (bad lengths, bad strings, trailing bytes). */
  PROTOCOL: 1,
  UNSUPPORTED_VERSION: 2,
  FRAME_TOO_LARGE: 3,
  UNKNOWN_TYPE: 4,
  /** BATCH sequence 0, not above the previous one on this connection. */
  BAD_SEQUENCE: 5,
  /** More unacknowledged BATCH frames than the window announced in HELLO_ACK. */
  WINDOW_EXCEEDED: 6,
  /** Payload is not a decodable OTLP LogsData. */
  BAD_PAYLOAD: 7,
  UNSUPPORTED_COMPRESSION: 8,
  RECORD_COUNT_MISMATCH: 9,
  /** Uncompressed payload above the receiver's limit. */
  TOO_LARGE: 10,
  /** Receiver cannot take the batch now; resend later (retriable). */
  OVERLOADED: 11,
  SHUTTING_DOWN: 12,
  IDLE_TIMEOUT: 13,
  INTERNAL: 14,
  /** A frame other than HELLO came first, or HELLO came twice, or a frame type not allowed in this direction. */
  UNEXPECTED_FRAME: 15,
  HANDSHAKE_TIMEOUT: 16,
  /** AUTH_RESPONSE did not prove the secret of the agent id in HELLO, or the client certificate names another agent. */
  AUTH_FAILED: 17,
  /** The relay requires the authenticated handshake (version 2) and the agent does not speak it. */
  AUTH_REQUIRED: 18,
  /** A record claims an agent identity other than the connection's authenticated one. */
  IDENTITY_MISMATCH: 19,
  /** A frame took longer than the receiver's frame deadline to arrive. */
  FRAME_TIMEOUT: 20,
} as const;

export const errorCodeName: Record<number, string> = Object.fromEntries(
  Object.entries(ErrorCode).map(([k, v]) => [v, k.toLowerCase()]),
);

/** NACK flags (u8). */
export const NACK_RETRIABLE = 0x01;

// Defaults shared by both ends.
/** 8 MiB: twice the pipeline's largest request of 4 x 1 MB batches would not fit one frame anyway;
 *  one BATCH carries one OTLP message, which the Kafka side caps at 1 MB (Kafka message.max.bytes),
 *  so 8 MiB leaves room for uncompressible payloads and third-party senders. */
export const DEFAULT_MAX_FRAME_BYTES = 8 * 1024 * 1024;
/** Limit on a decompressed payload: 4x the frame limit (zip bombs stop here). */
export const DEFAULT_MAX_BATCH_BYTES = 32 * 1024 * 1024;
/** Unacknowledged BATCH frames per connection. Fluent Bit's forward output keeps one chunk in flight per
 *  worker; Vector's pipelined request sinks default to a concurrency around 5-10. 16 keeps a 50 ms WAN
 *  round trip full at 1 MB batches (16 MB / 50 ms = 320 MB/s) without an unbounded retransmit buffer. */
export const DEFAULT_WINDOW = 16;
/** Size of the fixed BATCH header after the 4-byte length: type(1) seq(8) compression(1) count(4) rawLen(4). */
export const BATCH_HEADER_BYTES = LENGTH_BYTES + 1 + 8 + 1 + 4 + 4;
/** Longest id/message string in HELLO / HELLO_ACK / NACK / GOAWAY. */
export const MAX_STRING_BYTES = 1024;
