// The keys every sink takes beside its own, declared once for the reference
// rows and the JSON Schema: `encoding` (the encoder, chosen by `codec`, with
// that encoder's keys; load.ts readEncoder), and the pipeline's delivery
// maps `batch`, `buffer` and `retry` (agent/pipeline/config.ts, read by
// readDelivery). The loader takes these out of a sink's map before the sink
// reads the rest.

import { batchSection, bufferSection, retrySection } from '../pipeline/config.ts';
import { choice, nested, section } from './declare.ts';

/** The encoders a sink can name; the registry holds their specs (test/docs/components-reference.test.ts compares this enum with the loader's list of choices). */
export const encoderCodecs = ['otlp_proto', 'json', 'raw'] as const;

export const encodingSection = section({
  codec: choice('codec', encoderCodecs, 'otlp_proto', 'the encoder'),
});

const whole = <T>(s: { read(raw: unknown, path: string): T }) => (raw: unknown, path: string): T => s.read(raw, path);

export const sinkCommonSection = section({
  encoding: nested('encoding', encodingSection, 'map', encodingSection.defaults, '`{}`', 'the codec and its options (see Encoders)', whole(encodingSection)),
  batch: nested('batch', batchSection, 'map', batchSection.defaults, '`{}`', 'when a batch is closed', whole(batchSection)),
  buffer: nested('buffer', bufferSection, 'map', bufferSection.defaults, '`{}`', 'memory between the sources and the sink', whole(bufferSection)),
  retry: nested('retry', retrySection, 'map', retrySection.defaults, '`{}`', "the pipeline's retry of a failed send (forever, until shutdown)", whole(retrySection)),
});

/** The keys the loader takes out of a sink's map. */
export const sinkCommonKeys = sinkCommonSection.keys;
