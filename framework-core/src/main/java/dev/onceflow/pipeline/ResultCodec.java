package dev.onceflow.pipeline;

import java.nio.charset.StandardCharsets;

/**
 * Encodes a handler's result for the store, so that a duplicate can be answered with the cached
 * result. Without a codec no result is cached.
 */
public interface ResultCodec<R> {
  byte[] encode(R result);

  R decode(byte[] bytes);

  static ResultCodec<String> utf8() {
    return new ResultCodec<>() {
      @Override
      public byte[] encode(String result) {
        return result.getBytes(StandardCharsets.UTF_8);
      }

      @Override
      public String decode(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
      }
    };
  }
}
