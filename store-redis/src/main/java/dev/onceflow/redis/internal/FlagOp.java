package dev.onceflow.redis.internal;

import reactor.core.CoreSubscriber;

/** An operation the server answers with 1 (done) or 0 (the lease was not current). */
abstract class FlagOp extends Op<Boolean> {

  FlagOp(CoreSubscriber<? super Boolean> actual, String namespace, String key, byte[] redisKey) {
    super(actual, namespace, key, redisKey);
  }

  @Override
  final void reply(Object item, long now, Dispatcher d) {
    if (elsewhere(item)) {
      d.resend(this, item);
    } else if (item instanceof Long l) {
      emit(l == 1L);
    } else {
      otherReply(item);
    }
  }

  /** A reply that is neither 1 nor 0. */
  void otherReply(Object item) {
    error(unexpected(this, item));
  }
}
