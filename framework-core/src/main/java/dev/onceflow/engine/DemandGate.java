package dev.onceflow.engine;

import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Operators;

/**
 * Passes downstream demand to upstream only while open; elements and terminal signals pass straight
 * through. Closing stops pulling without cancelling upstream, so a source keeps its connection (and
 * can still settle deliveries) while in-flight work drains. One subscription.
 */
final class DemandGate<T> extends Flux<T> {
  private final Publisher<T> upstream;
  private final AtomicLong pending = new AtomicLong();
  private volatile boolean open = true;
  private volatile @Nullable Subscription subscription;

  DemandGate(Publisher<T> upstream) {
    this.upstream = upstream;
  }

  @Override
  public void subscribe(CoreSubscriber<? super T> actual) {
    upstream.subscribe(new Gated(actual));
  }

  private final class Gated implements CoreSubscriber<T>, Subscription {
    private final CoreSubscriber<? super T> actual;

    Gated(CoreSubscriber<? super T> actual) {
      this.actual = actual;
    }

    @Override
    public reactor.util.context.Context currentContext() {
      return actual.currentContext();
    }

    @Override
    public void onSubscribe(Subscription s) {
      subscription = s;
      actual.onSubscribe(this);
      drain();
    }

    @Override
    public void onNext(T t) {
      actual.onNext(t);
    }

    @Override
    public void onError(Throwable t) {
      actual.onError(t);
    }

    @Override
    public void onComplete() {
      actual.onComplete();
    }

    @Override
    public void request(long n) {
      if (Operators.validate(n)) {
        pending.getAndUpdate(p -> Operators.addCap(p, n));
        drain();
      }
    }

    @Override
    public void cancel() {
      Subscription s = subscription;
      if (s != null) {
        s.cancel();
      }
    }
  }

  /** Stops passing demand upstream. */
  void close() {
    open = false;
  }

  /** Passes demand again, including what accumulated while closed. */
  void open() {
    open = true;
    drain();
  }

  private void drain() {
    Subscription s = subscription;
    if (!open || s == null) {
      return;
    }
    long n = pending.getAndSet(0);
    if (n > 0) {
      s.request(n);
    }
  }
}
