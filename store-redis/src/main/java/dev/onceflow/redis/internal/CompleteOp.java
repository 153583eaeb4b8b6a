package dev.onceflow.redis.internal;

import dev.onceflow.store.Completion;
import dev.onceflow.store.Effect;
import dev.onceflow.store.EffectRejectedException;
import dev.onceflow.store.Guard;
import dev.onceflow.store.Lease;
import dev.onceflow.store.RecordedOutcome;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import reactor.core.CoreSubscriber;

/**
 * {@code complete}: op {@code c} (a result, nothing else), {@code k} (no result, nothing else) or
 * {@code C} (fingerprint, guard or effects).
 */
public final class CompleteOp extends FlagOp {

  private static final byte[] WITH_RESULT = Ascii.code('c');
  private static final byte[] WITHOUT_RESULT = Ascii.code('k');
  private static final byte[] FULL = Ascii.code('C');
  private static final byte[] PROCESSED = Ascii.code('P');
  private static final byte[] DEAD_LETTERED = Ascii.code('D');
  private static final byte[] EMPTY = {};

  private final Lease lease;
  private final Completion completion;
  private final byte[] token;
  private final byte[][] effectKeys;
  private final List<byte[]> effectArgs;
  private final boolean plain;

  /**
   * @param effectKeys the Redis keys of the completion's effects, in order (checked by the caller)
   */
  public CompleteOp(
      CoreSubscriber<? super Boolean> actual,
      Lease lease,
      Completion completion,
      byte[] redisKey,
      byte[][] effectKeys) {
    super(actual, lease.namespace(), lease.key(), redisKey);
    this.lease = lease;
    this.completion = completion;
    this.token = Ascii.utf8(lease.token());
    this.effectKeys = effectKeys;
    this.effectArgs = new ArrayList<>();
    for (Effect e : completion.effects()) {
      encodeEffect(e, effectArgs);
    }
    this.plain =
        effectKeys.length == 0
            && lease.fingerprint() == null
            && lease.guard() == null
            && completion.outcome() == RecordedOutcome.PROCESSED;
  }

  @Override
  String operation() {
    return "complete";
  }

  @Override
  boolean completes() {
    return true;
  }

  @Override
  int keyCount() {
    return 1 + effectKeys.length;
  }

  @Override
  int argCount() {
    if (plain) {
      return completion.result() == null ? 3 : 4;
    }
    return 10 + effectArgs.size();
  }

  @Override
  void encodeKeys(byte[][] keys, int ki) {
    keys[ki] = redisKey;
    System.arraycopy(effectKeys, 0, keys, ki + 1, effectKeys.length);
  }

  @Override
  void encodeArgs(byte[][] a, int i) {
    byte[] result = completion.result();
    a[i + 1] = token;
    a[i + 2] = Ascii.number(Ascii.millis(completion.retention()));
    if (plain) {
      a[i] = result == null ? WITHOUT_RESULT : WITH_RESULT;
      if (result != null) {
        a[i + 3] = result;
      }
      return;
    }
    a[i + 3] = completion.outcome() == RecordedOutcome.DEAD_LETTERED ? DEAD_LETTERED : PROCESSED;
    a[i] = FULL;
    String fp = lease.fingerprint();
    Guard g = lease.guard();
    StringBuilder flags = new StringBuilder(3);
    if (fp != null) {
      flags.append('f');
    }
    if (result != null) {
      flags.append('r');
    }
    if (g != null) {
      flags.append('g');
    }
    a[i + 4] = Ascii.utf8(flags.toString());
    a[i + 5] = fp == null ? EMPTY : Ascii.utf8(fp);
    a[i + 6] = result == null ? EMPTY : result;
    a[i + 7] = g == null ? EMPTY : Ascii.number(g.value());
    a[i + 8] = Ascii.number(effectKeys.length);
    a[i + 9] = Ascii.number(effectArgs.size());
    for (int j = 0; j < effectArgs.size(); j++) {
      a[i + 10 + j] = effectArgs.get(j);
    }
  }

  private static void encodeEffect(Effect e, List<byte[]> out) {
    if (e instanceof Effect.HashSet hs) {
      out.add(Ascii.utf8("HSET"));
      out.add(Ascii.utf8(hs.field()));
      out.add(Ascii.utf8(hs.value()));
    } else if (e instanceof Effect.HashIncrement hi) {
      out.add(Ascii.utf8("HINCRBY"));
      out.add(Ascii.utf8(hi.field()));
      out.add(Ascii.number(hi.delta()));
    } else if (e instanceof Effect.SetValue sv) {
      out.add(Ascii.utf8("SET"));
      out.add(Ascii.utf8(sv.value()));
    } else if (e instanceof Effect.Increment in) {
      out.add(Ascii.utf8("INCRBY"));
      out.add(Ascii.number(in.delta()));
    } else if (e instanceof Effect.SetAdd sa) {
      out.add(Ascii.utf8("SADD"));
      out.add(Ascii.utf8(sa.member()));
    } else if (e instanceof Effect.StreamAdd xa) {
      out.add(Ascii.utf8("XADD"));
      out.add(Ascii.number(xa.fields().size()));
      for (Map.Entry<String, String> f : xa.fields().entrySet()) {
        out.add(Ascii.utf8(f.getKey()));
        out.add(Ascii.utf8(f.getValue()));
      }
    } else {
      throw new EffectRejectedException("unsupported effect " + e.getClass().getName());
    }
  }

  @Override
  void otherReply(Object item) {
    if (item instanceof byte[]) {
      error(
          new EffectRejectedException(
              "Redis store: the effects of key '"
                  + key
                  + "' in namespace '"
                  + namespace
                  + "' cannot apply, nothing was written: "
                  + text(item)));
    } else {
      error(unexpected(this, item));
    }
  }
}
