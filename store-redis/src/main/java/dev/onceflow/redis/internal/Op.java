package dev.onceflow.redis.internal;

import dev.onceflow.store.StoreException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Operators;

/**
 * One store operation on its way to Redis: it is the subscription of the {@link OpMono} that asked
 * for it, encodes itself into a batch and decodes its part of the batch's reply. Emits on the
 * thread that received the reply (lettuce's I/O thread).
 *
 * @param <T> what it emits
 */
public abstract class Op<T> extends Operators.MonoSubscriber<T, T> {

  /** Reply of an operation that could not run on the node it was sent to (Cluster). */
  static final long ELSEWHERE = -1;

  final String namespace;
  final String key;
  final byte[] redisKey;

  /** Times this operation was sent again (redirected, re-routed); bounded. */
  int resends;

  Op(CoreSubscriber<? super T> actual, String namespace, String key, byte[] redisKey) {
    super(actual);
    this.namespace = namespace;
    this.key = key;
    this.redisKey = redisKey;
  }

  /** For errors: acquire, complete, release, extend or find. */
  abstract String operation();

  /** How many keys this operation adds to the batch's KEYS. */
  int keyCount() {
    return 1;
  }

  /** How many arguments this operation adds to the batch's ARGV. */
  abstract int argCount();

  /** Writes its keys from {@code keys[ki]} and its arguments from {@code args[ai]}. */
  void encodeKeys(byte[][] keys, int ki) {
    keys[ki] = redisKey;
  }

  abstract void encodeArgs(byte[][] args, int ai);

  /**
   * Decodes its part of the reply and emits (or leaves that to {@code d}, see ELSEWHERE).
   *
   * @param now the server's time when it ran the batch, in epoch milliseconds
   */
  abstract void reply(Object item, long now, Dispatcher d);

  /** True for a completion: it may have to wait for replicas before it emits. */
  boolean completes() {
    return false;
  }

  /**
   * The batch failed.
   *
   * @param maybeApplied false only when Redis refused the batch before running it
   */
  void fail(Throwable error, boolean maybeApplied, Dispatcher d) {
    if (!isCancelled()) {
      actual.onError(d.failure(this, error));
    }
  }

  void emit(T value) {
    complete(value);
  }

  void emitEmpty() {
    if (!isCancelled()) {
      actual.onComplete();
    }
  }

  void error(RuntimeException e) {
    if (!isCancelled()) {
      actual.onError(e);
    }
  }

  /** True when the item says the operation ran elsewhere's keys and must be sent again. */
  static boolean elsewhere(Object item) {
    return item instanceof List<?> l && !l.isEmpty() && Long.valueOf(ELSEWHERE).equals(l.get(0));
  }

  static String text(Object o) {
    if (o instanceof byte[] b) {
      return new String(b, StandardCharsets.UTF_8);
    }
    return String.valueOf(o);
  }

  static RuntimeException unexpected(Op<?> op, Object item) {
    return new StoreException(
        "Redis store: unexpected reply to "
            + op.operation()
            + " of key '"
            + op.key
            + "' in namespace '"
            + op.namespace
            + "': "
            + text(item));
  }
}
