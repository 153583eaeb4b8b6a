package dev.onceflow.redis.internal;

import dev.onceflow.store.OutcomeRecord;
import dev.onceflow.store.RecordedOutcome;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * Reads the value of a message key, packed by the server code ({@code onceflow.lua}) with Lua's
 * {@code struct}, big-endian: a version byte (1), six 48-bit unsigned integers (fence, keep, lease
 * expiry, record expiry, completion time, record fence; times in milliseconds, 0 for none), three
 * bytes (outcome {@code 'P'}/{@code 'D'} or 0, has fingerprint, has result), then token, guard
 * value and gap state each after a one-byte length, fingerprint and result each after a four-byte
 * length.
 */
public final class RecordFormat {

  private static final int VERSION = 1;
  private static final int FENCE = 1;
  private static final int LEASE_EXPIRY = 13;
  private static final int RECORD_EXPIRY = 19;
  private static final int COMPLETED_AT = 25;
  private static final int RECORD_FENCE = 31;
  private static final int OUTCOME = 37;
  private static final int HAS_FINGERPRINT = 38;
  private static final int HAS_RESULT = 39;
  private static final int TOKEN = 40;

  private final byte[] v;
  private final int guardAt;
  private final int fingerprintAt;
  private final int resultAt;

  private RecordFormat(byte[] v) {
    if (v.length < TOKEN + 1 || v[0] != VERSION) {
      throw new IllegalStateException(
          "a key of the store holds a value of an unknown format (version "
              + (v.length == 0 ? "none" : Integer.toString(v[0]))
              + "); was it written by another program?");
    }
    this.v = v;
    this.guardAt = TOKEN + 1 + u8(v, TOKEN);
    int gapAt = guardAt + 1 + u8(v, guardAt);
    this.fingerprintAt = gapAt + 1 + u8(v, gapAt);
    this.resultAt = fingerprintAt + 4 + u32(v, fingerprintAt);
  }

  /** Reads a value. */
  public static RecordFormat of(byte[] value) {
    return new RecordFormat(value);
  }

  public long fence() {
    return u48(v, FENCE);
  }

  /** The lease's expiry in epoch milliseconds, 0 when the key has no lease. */
  public long leaseExpiresAt() {
    return u48(v, LEASE_EXPIRY);
  }

  /** The record's expiry in epoch milliseconds, 0 when the key has no record. */
  public long recordExpiresAt() {
    return u48(v, RECORD_EXPIRY);
  }

  /** The lease token, empty when none. */
  public String token() {
    return new String(v, TOKEN + 1, u8(v, TOKEN), StandardCharsets.ISO_8859_1);
  }

  /** The record (the caller knows it is live: the server only answers live records). */
  public OutcomeRecord record() {
    int guardLength = u8(v, guardAt);
    Long guard =
        guardLength == 0
            ? null
            : Long.parseLong(new String(v, guardAt + 1, guardLength, StandardCharsets.US_ASCII));
    String fingerprint =
        v[HAS_FINGERPRINT] == 0
            ? null
            : new String(v, fingerprintAt + 4, u32(v, fingerprintAt), StandardCharsets.UTF_8);
    byte @Nullable [] result =
        v[HAS_RESULT] == 0
            ? null
            : Arrays.copyOfRange(v, resultAt + 4, resultAt + 4 + u32(v, resultAt));
    return new OutcomeRecord(
        v[OUTCOME] == 'D' ? RecordedOutcome.DEAD_LETTERED : RecordedOutcome.PROCESSED,
        result,
        Instant.ofEpochMilli(u48(v, COMPLETED_AT)),
        u48(v, RECORD_FENCE),
        fingerprint,
        guard);
  }

  private static int u8(byte[] b, int at) {
    return b[at] & 0xff;
  }

  private static int u32(byte[] b, int at) {
    return ((b[at] & 0xff) << 24)
        | ((b[at + 1] & 0xff) << 16)
        | ((b[at + 2] & 0xff) << 8)
        | (b[at + 3] & 0xff);
  }

  private static long u48(byte[] b, int at) {
    long n = 0;
    for (int i = 0; i < 6; i++) {
      n = (n << 8) | (b[at + i] & 0xff);
    }
    return n;
  }
}
