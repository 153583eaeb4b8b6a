package dev.onceflow.redis.internal;

import dev.onceflow.store.AcquireRequest;
import dev.onceflow.store.AcquireResult;
import dev.onceflow.store.Guard;
import dev.onceflow.store.Lease;
import dev.onceflow.store.OutcomeRecord;
import dev.onceflow.store.RecordedOutcome;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import reactor.core.CoreSubscriber;

/** {@code acquire}: op {@code a} (no fingerprint, guard or redrive) or {@code A}. */
public final class AcquireOp extends Op<AcquireResult> {

  private static final byte[] PLAIN = Ascii.code('a');
  private static final byte[] FULL = Ascii.code('A');
  private static final byte[] EMPTY = {};

  final AcquireRequest request;
  final byte[] token;
  private final boolean plain;

  public AcquireOp(
      CoreSubscriber<? super AcquireResult> actual,
      AcquireRequest request,
      byte[] redisKey,
      byte[] token) {
    super(actual, request.namespace(), request.key(), redisKey);
    this.request = request;
    this.token = token;
    this.plain = request.fingerprint() == null && request.guard() == null && !request.redrive();
  }

  @Override
  String operation() {
    return "acquire";
  }

  @Override
  int argCount() {
    return plain ? 4 : 10;
  }

  @Override
  void encodeArgs(byte[][] a, int i) {
    long lease = Ascii.millis(request.leaseTtl());
    long retention = Ascii.millis(request.retention());
    a[i] = plain ? PLAIN : FULL;
    a[i + 1] = token;
    a[i + 2] = Ascii.number(lease);
    a[i + 3] = Ascii.number(lease + retention);
    if (plain) {
      return;
    }
    Guard g = request.guard();
    String fp = request.fingerprint();
    StringBuilder flags = new StringBuilder(5);
    if (fp != null) {
      flags.append('f');
    }
    if (g != null) {
      flags.append('g');
      if (g.contiguous()) {
        flags.append('c');
      }
      if (g.gapTimeout() != null) {
        flags.append('t');
      }
    }
    if (request.redrive()) {
      flags.append('r');
    }
    a[i + 4] = Ascii.number(retention);
    a[i + 5] = Ascii.utf8(flags.toString());
    a[i + 6] = fp == null ? EMPTY : Ascii.utf8(fp);
    a[i + 7] = g == null ? EMPTY : Ascii.number(g.value());
    a[i + 8] = g == null ? EMPTY : Ascii.number(g.first());
    a[i + 9] =
        g == null || g.gapTimeout() == null
            ? EMPTY
            : Ascii.number(Ascii.millis(Objects.requireNonNull(g.gapTimeout())));
  }

  /** The token as the lease carries it (ASCII). */
  String tokenString() {
    return new String(token, StandardCharsets.ISO_8859_1);
  }

  @Override
  void reply(Object item, long now, Dispatcher d) {
    if (elsewhere(item)) {
      d.resend(this, item);
      return;
    }
    AcquireResult result;
    try {
      result = decode(item, now);
    } catch (RuntimeException e) {
      error(d.failure(this, e));
      return;
    }
    if (isCancelled()) {
      if (result instanceof AcquireResult.Acquired) {
        // Nobody will use this lease: give the key back at once instead of after the lease.
        d.orphans().releaseNow(this);
      }
      return;
    }
    emit(result);
  }

  @Override
  void fail(Throwable error, boolean maybeApplied, Dispatcher d) {
    if (maybeApplied) {
      d.orphans().add(this);
    }
    super.fail(error, maybeApplied, d);
  }

  private AcquireResult decode(Object item, long now) {
    if (item instanceof Long n) {
      if (n > 0) {
        return new AcquireResult.Acquired(lease(n, now + Ascii.millis(request.leaseTtl())));
      }
      return new AcquireResult.InProgress(Instant.ofEpochMilli(-n));
    }
    if (item instanceof byte[] v) {
      return new AcquireResult.Completed(RecordFormat.of(v).record());
    }
    if (!(item instanceof List<?> l) || l.isEmpty() || !(l.get(0) instanceof Long code)) {
      throw unexpected(this, item);
    }
    switch (code.intValue()) {
      case 1:
        return new AcquireResult.Acquired(lease((Long) l.get(1), (Long) l.get(2)), (Long) l.get(3));
      case 4:
        return new AcquireResult.Conflict(
            RecordFormat.of((byte[]) l.get(1)).record(),
            Objects.requireNonNull(request.fingerprint()));
      case 5:
        byte[] guard = (byte[]) l.get(2);
        return new AcquireResult.Completed(
            new OutcomeRecord(
                RecordedOutcome.PROCESSED,
                null,
                Instant.ofEpochMilli(now),
                (Long) l.get(1),
                null,
                guard.length == 0
                    ? null
                    : Long.parseLong(new String(guard, StandardCharsets.US_ASCII))));
      default:
        throw unexpected(this, item);
    }
  }

  private Lease lease(long fence, long expiresAt) {
    AcquireRequest r = request;
    return new Lease(
        r.namespace(),
        r.key(),
        r.owner(),
        tokenString(),
        fence,
        Instant.ofEpochMilli(expiresAt),
        r.fingerprint(),
        r.guard());
  }
}
