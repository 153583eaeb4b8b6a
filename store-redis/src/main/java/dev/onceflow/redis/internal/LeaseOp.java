package dev.onceflow.redis.internal;

import dev.onceflow.store.Lease;
import dev.onceflow.store.OutcomeRecord;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import reactor.core.CoreSubscriber;

/**
 * {@code release} (op {@code r}), {@code extend} (op {@code e}) and {@code find} (op {@code f}).
 */
public final class LeaseOp {

  private static final byte[] RELEASE = Ascii.code('r');
  private static final byte[] EXTEND = Ascii.code('e');
  private static final byte[] FIND = Ascii.code('f');

  private LeaseOp() {}

  /** Ends the lease held by {@code token} (compare-and-set): emits true when it was current. */
  public static Op<Boolean> release(
      CoreSubscriber<? super Boolean> actual,
      String namespace,
      String key,
      byte[] redisKey,
      byte[] token) {
    return new Flag(
        actual, namespace, key, redisKey, "release", new byte[][] {RELEASE, token}, token);
  }

  /** Moves the lease's expiry to now + ttl: emits true when it was current. */
  public static Op<Boolean> extend(
      CoreSubscriber<? super Boolean> actual, Lease lease, byte[] redisKey, Duration ttl) {
    return new Flag(
        actual,
        lease.namespace(),
        lease.key(),
        redisKey,
        "extend",
        new byte[][] {EXTEND, Ascii.utf8(lease.token()), Ascii.number(Ascii.millis(ttl))},
        null);
  }

  /** The key's live record, or empty. */
  public static Op<OutcomeRecord> find(
      CoreSubscriber<? super OutcomeRecord> actual, String namespace, String key, byte[] redisKey) {
    return new Find(actual, namespace, key, redisKey);
  }

  private static final class Flag extends FlagOp {
    private final String name;
    private final byte[][] args;
    private final byte @Nullable [] releaseToken;

    Flag(
        CoreSubscriber<? super Boolean> actual,
        String namespace,
        String key,
        byte[] redisKey,
        String name,
        byte[][] args,
        byte @Nullable [] releaseToken) {
      super(actual, namespace, key, redisKey);
      this.name = name;
      this.args = args;
      this.releaseToken = releaseToken;
    }

    @Override
    void fail(Throwable error, boolean maybeApplied, Dispatcher d) {
      byte[] t = releaseToken;
      if (t != null) {
        // Whether or not it ran, releasing by the same token again is harmless: retry it.
        d.orphans().add(namespace, key, redisKey, t);
      }
      super.fail(error, maybeApplied, d);
    }

    @Override
    String operation() {
      return name;
    }

    @Override
    int argCount() {
      return args.length;
    }

    @Override
    void encodeArgs(byte[][] a, int i) {
      System.arraycopy(args, 0, a, i, args.length);
    }
  }

  private static final class Find extends Op<OutcomeRecord> {
    Find(
        CoreSubscriber<? super OutcomeRecord> actual,
        String namespace,
        String key,
        byte[] redisKey) {
      super(actual, namespace, key, redisKey);
    }

    @Override
    String operation() {
      return "find";
    }

    @Override
    int argCount() {
      return 1;
    }

    @Override
    void encodeArgs(byte[][] a, int i) {
      a[i] = FIND;
    }

    @Override
    void reply(Object item, long now, Dispatcher d) {
      if (elsewhere(item)) {
        d.resend(this, item);
      } else if (item instanceof byte[] v) {
        OutcomeRecord record;
        try {
          record = RecordFormat.of(v).record();
        } catch (RuntimeException e) {
          error(d.failure(this, e));
          return;
        }
        emit(record);
      } else if (item instanceof Long) {
        emitEmpty();
      } else {
        error(unexpected(this, item));
      }
    }
  }
}
