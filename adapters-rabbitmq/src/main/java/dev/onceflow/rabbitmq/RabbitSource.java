package dev.onceflow.rabbitmq;

import dev.onceflow.core.BrokerKind;
import dev.onceflow.core.Delivery;
import dev.onceflow.core.MessageSource;
import dev.onceflow.core.Origin;
import dev.onceflow.rabbitmq.internal.Consumption;
import dev.onceflow.rabbitmq.internal.RabbitDelivery;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * A {@link MessageSource} over a RabbitMQ queue, built on spring-amqp's {@code
 * DirectMessageListenerContainer} in MANUAL acknowledge mode.
 *
 * <p><b>Subscription.</b> {@link #receive()} is cold: each subscription connects (from the URI, or
 * on the given connection factory), checks the queue exists (or declares it), and starts {@link
 * RabbitSourceOptions#consumers()} consumers, each on its own channel with {@code
 * basic.qos(prefetch)}. Cancelling stops the consumers and closes their channels (and the
 * connection, when the source made it): the broker requeues every delivery not yet acked. A missing
 * queue or an unreachable broker at subscription is an {@code onError}; a channel or connection
 * lost later is recovered by spring-amqp (consumers restart every {@link
 * RabbitSourceOptions#recoveryInterval()}), and the broker redelivers what the lost channel held.
 *
 * <p><b>Backpressure.</b> At most {@code prefetch * consumers} deliveries are unacked at any time:
 * that is the broker's own bound, and the source buffers nothing beyond it. Deliveries are emitted
 * only as downstream requests them; while downstream requests nothing the prefetch window fills and
 * the broker stops sending.
 *
 * <p><b>Settlement.</b> Nothing is acked by the source. {@link Delivery#ack()} sends {@code
 * basic.ack} on the channel the delivery arrived on; {@link Delivery#nack(java.time.Duration)} with
 * a zero delay sends {@code basic.nack(requeue=true)}, and with a positive delay follows {@link
 * RabbitSourceOptions#redeliveryDelay()}. Settlement is idempotent (the first call wins), runs on
 * {@link RabbitSourceOptions#scheduler()} (amqp-client calls block), and fails with a {@link
 * RabbitOperationException} when the channel is gone, in which case the broker redelivers.
 *
 * <p><b>Threading.</b> Deliveries are emitted on amqp-client consumer threads or on the thread that
 * requested; downstream must not block in {@code onNext}.
 *
 * <p><b>Envelope.</b> Message id from the {@linkplain RabbitSourceOptions#idHeader() configured id
 * header}, else the {@code onceflow-id} header, else a CloudEvents id ({@code cloudEvents:id},
 * {@code cloudEvents_id}), else the {@code message-id} property; correlation id from {@code
 * correlation-id} (else the header), timestamp from the {@code onceflow-timestamp} header (else the
 * {@code timestamp} property), the other fields from the headers by {@link
 * dev.onceflow.core.HeaderConvention}. The origin is {@link BrokerKind#RABBITMQ}, the queue, the
 * receipt {@code <deliveryTag>@<consumerTag>} (a delivery tag alone is unique only on its channel),
 * the {@code redelivered} flag and the attempt: 1 + {@code x-delivery-count} on quorum queues (+
 * the attempts before a retry-queue republish); on a classic queue a redelivered message counts as
 * at least attempt 2.
 */
public final class RabbitSource implements MessageSource {

  /**
   * Where consumers start and stop: blocking calls that can take seconds (a stop waits up to
   * spring's shutdown timeout for a dead channel), kept off the scheduler that settles deliveries
   * so that no ack waits behind them.
   */
  private static final Scheduler LIFECYCLE =
      Schedulers.newBoundedElastic(4, 10_000, "onceflow-rabbit-lifecycle", 60, true);

  private final RabbitSourceOptions options;
  private final ConcurrentMap<String, RabbitDelivery> inFlight = new ConcurrentHashMap<>();

  private RabbitSource(RabbitSourceOptions options) {
    this.options = options;
  }

  /** A source with these options. */
  public static RabbitSource create(RabbitSourceOptions options) {
    return new RabbitSource(Objects.requireNonNull(options, "options"));
  }

  /** A source on {@code queue} of the broker at {@code uri}, with default options. */
  public static RabbitSource create(String uri, String queue) {
    return create(RabbitSourceOptions.builder().uri(uri).queue(queue).build());
  }

  public RabbitSourceOptions options() {
    return options;
  }

  @Override
  public String name() {
    return "rabbitmq:" + options.queue();
  }

  @Override
  public Flux<Delivery> receive() {
    return Flux.create(
        sink -> {
          Consumption c = new Consumption(settings(), sink, inFlight);
          sink.onRequest(n -> c.drain());
          sink.onDispose(() -> LIFECYCLE.schedule(c::close));
          LIFECYCLE.schedule(c::start);
        },
        FluxSink.OverflowStrategy.ERROR);
  }

  /** Deliveries emitted and not yet settled, across subscriptions. */
  public int inFlight() {
    return inFlight.size();
  }

  /**
   * Marks an in-flight delivery of this source so that its ack becomes a reject without requeue:
   * the broker then routes it through the queue's dead-letter exchange.
   *
   * @return false when no delivery with that origin is in flight (settled, or its channel closed)
   */
  boolean deadLetterOnAck(Origin origin) {
    if (origin.broker() != BrokerKind.RABBITMQ
        || !options.queue().equals(origin.destination())
        || origin.receipt() == null) {
      return false;
    }
    RabbitDelivery d = inFlight.get(origin.receipt());
    if (d == null) {
      return false;
    }
    d.deadLetterOnAck();
    return true;
  }

  private Consumption.Settings settings() {
    RedeliveryDelay delay = options.redeliveryDelay();
    return new Consumption.Settings(
        name(),
        options.queue(),
        options.uri(),
        options.connectionFactory(),
        options.prefetch(),
        options.consumers(),
        options.declareQueue(),
        options.queueArguments(),
        delay.retryQueueFor(options.queue()),
        delay.kind() == RedeliveryDelay.Kind.HOLD,
        options.confirmTimeout(),
        options.recoveryInterval(),
        options.scheduler(),
        options.idHeader());
  }

  @Override
  public String toString() {
    return "RabbitSource{" + options + "}";
  }
}
