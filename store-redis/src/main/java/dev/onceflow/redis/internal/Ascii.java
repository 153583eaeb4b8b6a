package dev.onceflow.redis.internal;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** Arguments as Redis reads them: decimal numbers and short codes, as bytes. */
final class Ascii {

  /** About 300 years: durations beyond it are capped (the server keeps times in 48 bits). */
  static final long MAX_MILLIS = 10_000_000_000_000L;

  private static final byte[][] SMALL = new byte[1024][];

  static {
    for (int i = 0; i < SMALL.length; i++) {
      SMALL[i] = Integer.toString(i).getBytes(StandardCharsets.US_ASCII);
    }
  }

  private Ascii() {}

  static byte[] number(long n) {
    if (n >= 0 && n < SMALL.length) {
      return SMALL[(int) n];
    }
    return Long.toString(n).getBytes(StandardCharsets.US_ASCII);
  }

  static byte[] code(char c) {
    return new byte[] {(byte) c};
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Milliseconds of a positive duration, at least 1 and at most {@link #MAX_MILLIS}. */
  static long millis(Duration d) {
    long ms;
    try {
      ms = d.toMillis();
    } catch (ArithmeticException e) {
      ms = MAX_MILLIS;
    }
    return Math.max(1, Math.min(ms, MAX_MILLIS));
  }
}
