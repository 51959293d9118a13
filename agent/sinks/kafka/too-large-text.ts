// What "too large" means, said so that an operator can act on it. The broker
// answers MESSAGE_TOO_LARGE for a whole produce request's record batch (all
// messages for one partition, compressed together), so "record of 615590
// bytes exceeds limit 1000000" was both wrong (no record that large, and
// 615590 < 1000000) and alarming (nothing was lost: the pipeline sends the
// same messages again in smaller parts, and only a message that is too large
// on its own is dead-lettered).

import type { RecordTooLargeError } from '../../core/errors.ts';

/** Rewords the error of a produce request the broker refused as too large. */
export function rewordBrokerTooLarge(e: RecordTooLargeError, messages: number, totalBytes: number, largest: number, limit: number): RecordTooLargeError {
  const text = messages > 1 && largest <= limit
    ? `broker refused a request of ${messages} messages (${totalBytes} bytes together, largest ${largest} bytes) as too large: its limit (message.max.bytes, or the topic's max.message.bytes) applies to the whole batch; sending them again in smaller parts`
    : largest <= limit
      ? `broker refused a message of ${largest} bytes as too large: its message.max.bytes (or the topic's max.message.bytes) is below max_message_bytes ${limit}; lower max_message_bytes or raise the broker's limit`
      : `message of ${largest} bytes exceeds max_message_bytes ${limit}`;
  (e as { message: string }).message = text;
  return e;
}
