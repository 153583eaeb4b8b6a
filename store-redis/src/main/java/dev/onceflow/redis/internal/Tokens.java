package dev.onceflow.redis.internal;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Lease tokens, made on the client so that a timed-out acquisition can still be released by its
 * token: 22 URL-safe characters, a random 64-bit prefix per store and a 64-bit counter, so tokens
 * are unique per store and, across stores, as unlikely to meet as two random 64-bit numbers.
 */
public final class Tokens {

  private static final byte[] DIGITS =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
          .getBytes(StandardCharsets.US_ASCII);

  private final byte[] prefix;
  private final AtomicLong counter;

  public Tokens() {
    SecureRandom random = new SecureRandom();
    byte[] seed = new byte[8];
    random.nextBytes(seed);
    this.prefix = Base64.getUrlEncoder().withoutPadding().encode(seed);
    this.counter = new AtomicLong(random.nextLong());
  }

  /** A new token, as ASCII bytes. */
  public byte[] next() {
    long n = counter.getAndIncrement();
    byte[] t = new byte[22];
    System.arraycopy(prefix, 0, t, 0, 11);
    for (int i = 21; i >= 11; i--) {
      t[i] = DIGITS[(int) (n & 63)];
      n >>>= 6;
    }
    return t;
  }
}
