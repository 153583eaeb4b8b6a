package dev.onceflow.core;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;
import reactor.core.publisher.Mono;

/**
 * One delivery of a message by a broker: the {@link Envelope} plus the means to settle it.
 *
 * <p>Settlement is idempotent and thread-safe: the first of {@link #ack()} and {@link
 * #nack(Duration)} wins and is executed once (when the returned {@code Mono} is subscribed); every
 * later call returns that same settlement. Neither method ever throws: failures arrive as an error
 * signal of the returned {@code Mono}.
 *
 * <p>{@link #of(Envelope, Supplier, Function)} builds a delivery with these guarantees from two
 * plain functions; adapters should use it rather than implement this interface.
 */
public interface Delivery {

  Envelope envelope();

  /**
   * Tells the broker the message is done with: Kafka commits its offset (once every earlier offset
   * of its partition is done too), RabbitMQ {@code basicAck}s, SQS deletes.
   */
  Mono<Void> ack();

  /**
   * Tells the broker to deliver the message again, not before {@code redeliverAfter} where the
   * broker can delay ({@link Duration#ZERO}: as soon as it likes). Kafka: the offset is not
   * committed and the record is fetched again; RabbitMQ: reject with requeue (or a delay queue);
   * SQS: the visibility timeout is set to the delay.
   */
  Mono<Void> nack(Duration redeliverAfter);

  /** Whether {@link #ack()} or {@link #nack(Duration)} was called. */
  boolean settled();

  /**
   * A delivery whose settlement runs {@code ack} or {@code nack} at most once, whichever is called
   * first. Once subscribed, a settlement runs to its end even if every subscriber cancels, so an
   * ack is never cut off half-way by a stopping pipeline.
   */
  static Delivery of(
      Envelope envelope, Supplier<Mono<Void>> ack, Function<Duration, Mono<Void>> nack) {
    return new Settled(envelope, ack, nack);
  }

  /** The idempotent delivery behind {@link Delivery#of}. */
  final class Settled implements Delivery {
    private final Envelope envelope;
    private final Supplier<Mono<Void>> ack;
    private final Function<Duration, Mono<Void>> nack;
    private final AtomicReference<Mono<Void>> settlement = new AtomicReference<>();

    private Settled(
        Envelope envelope, Supplier<Mono<Void>> ack, Function<Duration, Mono<Void>> nack) {
      this.envelope = Objects.requireNonNull(envelope, "envelope");
      this.ack = Objects.requireNonNull(ack, "ack");
      this.nack = Objects.requireNonNull(nack, "nack");
    }

    @Override
    public Envelope envelope() {
      return envelope;
    }

    @Override
    public Mono<Void> ack() {
      return settle(() -> ack.get());
    }

    @Override
    public Mono<Void> nack(Duration redeliverAfter) {
      Objects.requireNonNull(redeliverAfter, "redeliverAfter");
      Duration delay = redeliverAfter.isNegative() ? Duration.ZERO : redeliverAfter;
      return settle(() -> nack.apply(delay));
    }

    @Override
    public boolean settled() {
      return settlement.get() != null;
    }

    private Mono<Void> settle(Supplier<Mono<Void>> action) {
      Mono<Void> existing = settlement.get();
      if (existing != null) {
        return existing;
      }
      Once mine = new Once(action);
      return settlement.compareAndSet(null, mine) ? mine : settlement.get();
    }

    @Override
    public String toString() {
      return "Delivery{" + envelope + "}";
    }
  }

  /**
   * A settlement that runs its action once, on the first subscription, and to its end whatever its
   * subscribers do: cancelling does not cut an ack off half-way. Every subscriber, early or late,
   * gets the action's completion or error. Lighter than {@code Mono.cache()} on the hot path.
   */
  final class Once extends Mono<Void> {
    private final Supplier<Mono<Void>> action;
    private final java.util.ArrayList<reactor.core.CoreSubscriber<? super Void>> waiting =
        new java.util.ArrayList<>(1);
    private boolean started;
    private boolean done;
    private @org.jspecify.annotations.Nullable Throwable error;

    Once(Supplier<Mono<Void>> action) {
      this.action = action;
    }

    @Override
    public void subscribe(reactor.core.CoreSubscriber<? super Void> actual) {
      actual.onSubscribe(new Waiter(actual));
      boolean start;
      boolean finished;
      Throwable e;
      synchronized (this) {
        finished = done;
        e = error;
        start = !finished && !started;
        started = true;
        if (!finished) {
          waiting.add(actual);
        }
      }
      if (finished) {
        signal(actual, e);
        return;
      }
      if (!start) {
        return;
      }
      Mono<Void> m;
      try {
        m = Objects.requireNonNull(action.get(), "settlement returned null");
      } catch (RuntimeException ex) {
        m = Mono.error(ex);
      }
      m.subscribe(null, this::end, () -> end(null));
    }

    private void end(@org.jspecify.annotations.Nullable Throwable e) {
      java.util.List<reactor.core.CoreSubscriber<? super Void>> toSignal;
      synchronized (this) {
        done = true;
        error = e;
        toSignal = new java.util.ArrayList<>(waiting);
        waiting.clear();
      }
      for (reactor.core.CoreSubscriber<? super Void> s : toSignal) {
        signal(s, e);
      }
    }

    private static void signal(
        reactor.core.CoreSubscriber<? super Void> s,
        @org.jspecify.annotations.Nullable Throwable e) {
      if (e == null) {
        s.onComplete();
      } else {
        s.onError(e);
      }
    }

    /** A subscriber's handle: cancelling stops its signals, never the settlement. */
    private final class Waiter implements org.reactivestreams.Subscription {
      private final reactor.core.CoreSubscriber<? super Void> actual;

      Waiter(reactor.core.CoreSubscriber<? super Void> actual) {
        this.actual = actual;
      }

      @Override
      public void request(long n) {}

      @Override
      public void cancel() {
        synchronized (Once.this) {
          waiting.remove(actual);
        }
      }
    }
  }
}
