package dev.onceflow.redis.internal;

import java.util.function.Function;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;

/**
 * A store call as a {@link Mono}: each subscription builds its operation anew (so a retry re-sends
 * it) and hands it to the dispatcher.
 *
 * @param <T> what the operation emits
 */
public final class OpMono<T> extends Mono<T> {

  private final Dispatcher dispatcher;
  private final Function<CoreSubscriber<? super T>, Op<T>> operation;

  public OpMono(Dispatcher dispatcher, Function<CoreSubscriber<? super T>, Op<T>> operation) {
    this.dispatcher = dispatcher;
    this.operation = operation;
  }

  @Override
  public void subscribe(CoreSubscriber<? super T> actual) {
    Op<T> op;
    try {
      op = operation.apply(actual);
    } catch (RuntimeException e) {
      Operators.error(actual, e);
      return;
    }
    actual.onSubscribe(op);
    if (!op.isCancelled()) {
      dispatcher.submit(op);
    }
  }
}
