package dev.onceflow.engine;

import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.util.concurrent.Queues;

/**
 * {@code flatMap(mapper, concurrency)} for inners that are {@code Mono}s of at most one value, with
 * the work per element independent of the concurrency: finished values go through one queue instead
 * of a scan of every inner (Reactor's flatMap looks at all of them whenever one has a value, which
 * costs O(concurrency) per element at 256 in flight). At most {@code concurrency} inners run at
 * once; an element is requested from upstream for each value taken downstream, or for an inner that
 * ended without one, so slow downstream holds upstream back. An upstream error cancels the inners
 * and is signalled at once; cancelling cancels upstream and the inners.
 */
final class LaneMerge<T, R> extends Flux<R> {
  private final Publisher<T> upstream;
  private final Function<T, Mono<R>> mapper;
  private final int concurrency;

  LaneMerge(Publisher<T> upstream, Function<T, Mono<R>> mapper, int concurrency) {
    this.upstream = upstream;
    this.mapper = mapper;
    this.concurrency = concurrency;
  }

  @Override
  public void subscribe(CoreSubscriber<? super R> actual) {
    upstream.subscribe(new Main<>(actual, mapper, concurrency));
  }

  @SuppressWarnings("rawtypes")
  private static final AtomicIntegerFieldUpdater<Main> WIP =
      AtomicIntegerFieldUpdater.newUpdater(Main.class, "wip");

  @SuppressWarnings("rawtypes")
  private static final AtomicIntegerFieldUpdater<Main> ACTIVE =
      AtomicIntegerFieldUpdater.newUpdater(Main.class, "active");

  @SuppressWarnings("rawtypes")
  private static final AtomicLongFieldUpdater<Main> REQUESTED =
      AtomicLongFieldUpdater.newUpdater(Main.class, "requested");

  private static final class Main<T, R> implements CoreSubscriber<T>, Subscription {
    final CoreSubscriber<? super R> actual;
    final Function<T, Mono<R>> mapper;
    final int concurrency;
    final Queue<R> values = Queues.<R>unboundedMultiproducer().get();
    final Set<Inner<R>> inners = ConcurrentHashMap.newKeySet();

    volatile int wip;
    volatile int active;
    volatile long requested;
    volatile boolean done;
    volatile boolean cancelled;
    volatile @Nullable Throwable error;
    @Nullable Subscription s;

    /** Upstream elements owed for inners that ended without a value (sent by the drain). */
    volatile int refill;

    @SuppressWarnings("rawtypes")
    static final AtomicIntegerFieldUpdater<Main> REFILL =
        AtomicIntegerFieldUpdater.newUpdater(Main.class, "refill");

    Main(CoreSubscriber<? super R> actual, Function<T, Mono<R>> mapper, int concurrency) {
      this.actual = actual;
      this.mapper = mapper;
      this.concurrency = concurrency;
    }

    @Override
    public reactor.util.context.Context currentContext() {
      return actual.currentContext();
    }

    @Override
    public void onSubscribe(Subscription s) {
      if (Operators.validate(this.s, s)) {
        this.s = s;
        actual.onSubscribe(this);
        s.request(concurrency);
      }
    }

    @Override
    public void onNext(T t) {
      if (done || cancelled) {
        Operators.onNextDropped(t, actual.currentContext());
        return;
      }
      Mono<R> m;
      try {
        m = java.util.Objects.requireNonNull(mapper.apply(t), "the mapper returned null");
      } catch (Throwable e) {
        onError(Operators.onOperatorError(s, e, t, actual.currentContext()));
        return;
      }
      Inner<R> inner = new Inner<>(this);
      ACTIVE.incrementAndGet(this);
      inners.add(inner);
      m.subscribe(inner);
    }

    @Override
    public void onError(Throwable t) {
      if (done) {
        Operators.onErrorDropped(t, actual.currentContext());
        return;
      }
      error = t;
      done = true;
      cancelInners();
      drain();
    }

    @Override
    public void onComplete() {
      done = true;
      drain();
    }

    void innerValue(R value) {
      values.offer(value);
      drain();
    }

    void innerDone(Inner<R> inner, boolean emitted) {
      inners.remove(inner);
      ACTIVE.decrementAndGet(this);
      if (!emitted) {
        REFILL.incrementAndGet(this);
      }
      drain();
    }

    @Override
    public void request(long n) {
      if (Operators.validate(n)) {
        Operators.addCap(REQUESTED, this, n);
        drain();
      }
    }

    @Override
    public void cancel() {
      if (!cancelled) {
        cancelled = true;
        Subscription up = s;
        if (up != null) {
          up.cancel();
        }
        cancelInners();
      }
    }

    private void cancelInners() {
      for (Inner<R> inner : inners) {
        inner.cancel();
      }
      inners.clear();
    }

    void drain() {
      if (WIP.getAndIncrement(this) != 0) {
        return;
      }
      int missed = 1;
      for (; ; ) {
        if (cancelled) {
          values.clear();
          return;
        }
        Throwable e = error;
        if (e != null) {
          values.clear();
          actual.onError(e);
          return;
        }
        long r = requested;
        long emitted = 0;
        while (emitted != r) {
          R v = values.poll();
          if (v == null) {
            break;
          }
          actual.onNext(v);
          emitted++;
          if (cancelled) {
            return;
          }
        }
        if (emitted != 0 && r != Long.MAX_VALUE) {
          REQUESTED.addAndGet(this, -emitted);
        }
        int owed = REFILL.getAndSet(this, 0);
        long ask = emitted + owed;
        Subscription up = s;
        if (ask != 0 && up != null && !done) {
          up.request(ask);
        }
        if (done && active == 0 && values.isEmpty()) {
          actual.onComplete();
          return;
        }
        missed = WIP.addAndGet(this, -missed);
        if (missed == 0) {
          return;
        }
      }
    }
  }

  private static final class Inner<R> implements CoreSubscriber<R>, Subscription {
    final Main<?, R> parent;
    volatile @Nullable Subscription s;
    volatile boolean emitted;
    volatile boolean finished;

    Inner(Main<?, R> parent) {
      this.parent = parent;
    }

    @Override
    public reactor.util.context.Context currentContext() {
      return parent.actual.currentContext();
    }

    @Override
    public void onSubscribe(Subscription s) {
      this.s = s;
      if (parent.cancelled) {
        s.cancel();
      } else {
        s.request(Long.MAX_VALUE);
      }
    }

    @Override
    public void onNext(R value) {
      if (!emitted && !finished) {
        emitted = true;
        parent.innerValue(value);
      }
    }

    @Override
    public void onError(Throwable t) {
      if (!finished) {
        finished = true;
        parent.onError(t);
      }
    }

    @Override
    public void onComplete() {
      if (!finished) {
        finished = true;
        parent.innerDone(this, emitted);
      }
    }

    @Override
    public void request(long n) {}

    @Override
    public void cancel() {
      Subscription up = s;
      if (up != null) {
        up.cancel();
      }
    }
  }
}
