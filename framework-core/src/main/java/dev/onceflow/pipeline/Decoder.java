package dev.onceflow.pipeline;

import dev.onceflow.core.Envelope;
import java.nio.charset.StandardCharsets;

/**
 * Turns a raw payload into the handler's type. Any exception it throws dead-letters the message
 * with reason {@code DECODE_FAILED}; it is never retried. It must not return null.
 */
@FunctionalInterface
public interface Decoder<T> {
  T decode(Envelope envelope) throws Exception;

  /** The raw payload bytes. */
  static Decoder<byte[]> bytes() {
    return Envelope::payload;
  }

  /** The payload as UTF-8 text. */
  static Decoder<String> utf8() {
    return e -> new String(e.payload(), StandardCharsets.UTF_8);
  }
}
