package dev.onceflow.engine;

import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Operators;

/**
 * Passes downstream demand to upstream only while open. Closing stops pulling without cancelling
 * upstream, so a source keeps its connection (and can still settle deliveries) while in-flight work
 * drains.
 */
final class DemandGate<T> {
  private final Publisher<T> upstream;
  private final AtomicLong pending = new AtomicLong();
  private volatile boolean open = true;
  private volatile @Nullable Subscription subscription;

  DemandGate(Publisher<T> upstream) {
    this.upstream = upstream;
  }

  Flux<T> flux() {
    return Flux.create(
        sink -> {
          BaseSubscriber<T> sub =
              new BaseSubscriber<>() {
                @Override
                protected void hookOnSubscribe(Subscription s) {
                  subscription = s;
                  drain();
                }

                @Override
                protected void hookOnNext(T value) {
                  sink.next(value);
                }

                @Override
                protected void hookOnError(Throwable t) {
                  sink.error(t);
                }

                @Override
                protected void hookOnComplete() {
                  sink.complete();
                }
              };
          sink.onRequest(
              n -> {
                pending.getAndUpdate(p -> Operators.addCap(p, n));
                drain();
              });
          sink.onDispose(sub::dispose);
          upstream.subscribe(sub);
        },
        FluxSink.OverflowStrategy.BUFFER);
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
