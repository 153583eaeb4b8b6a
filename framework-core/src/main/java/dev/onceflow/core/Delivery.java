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
      Mono<Void> mine =
          Mono.defer(
                  () -> {
                    try {
                      return Objects.requireNonNull(action.get(), "settlement returned null");
                    } catch (RuntimeException e) {
                      return Mono.error(e);
                    }
                  })
              .cache();
      return settlement.compareAndSet(null, mine) ? mine : settlement.get();
    }

    @Override
    public String toString() {
      return "Delivery{" + envelope + "}";
    }
  }
}
