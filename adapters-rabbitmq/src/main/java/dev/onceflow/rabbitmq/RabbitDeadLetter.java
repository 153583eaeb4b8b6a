package dev.onceflow.rabbitmq;

import dev.onceflow.deadletter.DeadLetter;
import dev.onceflow.deadletter.DeadLetterSink;
import dev.onceflow.rabbitmq.internal.AmqpMessages;
import dev.onceflow.rabbitmq.internal.ConfirmedPublisher;
import dev.onceflow.rabbitmq.internal.Connections;
import dev.onceflow.rabbitmq.internal.Topology;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import reactor.core.publisher.Mono;

/**
 * A {@link DeadLetterSink} for RabbitMQ, in one of two modes.
 *
 * <p><b>Publishing (the default, {@link #create(RabbitDeadLetterOptions)}, {@link #create(String,
 * String)}).</b> The dead letter is published, with publisher confirms and the mandatory flag, to
 * an exchange and routing key (by default the default exchange and a dead-letter queue's name). The
 * message carries the original payload, the {@code message-id}, {@code correlation-id} and {@code
 * timestamp} properties of the original, and as headers {@link DeadLetter#headers()}: the original
 * headers, the convention headers and the {@code onceflow-dlq-*} metadata. The returned {@code
 * Mono} completes only after the broker acked the publish; it errors with a {@link
 * RabbitOperationException} when the broker nacks it, returns it as unroutable (no queue bound), or
 * does not confirm within {@link RabbitDeadLetterOptions#confirmTimeout()}. The pipeline then acks
 * the original, or on error releases the lease and nacks it: a dead letter is never why a message
 * is lost, but one may be published twice. {@link #ready()} declares the queue when {@link
 * RabbitDeadLetterOptions#declareQueue()} says so, and otherwise checks that the queue (or
 * exchange) exists, failing with its name.
 *
 * <p><b>Through the queue's dead-letter exchange ({@link #viaQueueDeadLetterExchange}).</b> For
 * queues declared with {@code x-dead-letter-exchange}: publishing only marks the delivery, and the
 * pipeline's ack after it recorded the outcome becomes {@code basic.reject(requeue=false)}, which
 * makes the broker route the original message (unchanged: no {@code onceflow-dlq-*} headers;
 * RabbitMQ adds its {@code x-death} header) to the queue's dead-letter exchange. If the outcome
 * cannot be recorded, the pipeline nacks and the message is requeued rather than dead-lettered.
 * Weaker than publishing: RabbitMQ's dead-lettering of classic queues is at-most-once (a message
 * whose dead-letter exchange routes nowhere is dropped), and the dead letter lacks the failure
 * metadata. Use it where the topology is already built around the queue's DLX.
 *
 * <p>Thread-safe. {@link #close()} closes the connection the sink made from a URI.
 */
public final class RabbitDeadLetter implements DeadLetterSink, AutoCloseable {

  private final @Nullable RabbitDeadLetterOptions options;
  private final @Nullable ConfirmedPublisher publisher;
  private final @Nullable ConnectionFactory connectionFactory;
  private final @Nullable RabbitSource viaSource;
  private final Connections.@Nullable Owned owned;
  private volatile boolean declared;

  private RabbitDeadLetter(RabbitDeadLetterOptions options) {
    ConnectionFactory cf = options.connectionFactory();
    Connections.Owned own = null;
    if (cf == null) {
      own = Connections.fromUri(Objects.requireNonNull(options.uri()), "onceflow-dead-letter");
      cf = own.factory();
    }
    this.options = options;
    this.owned = own;
    this.connectionFactory = cf;
    this.publisher = new ConfirmedPublisher(cf, options.confirmTimeout(), options.scheduler());
    this.viaSource = null;
  }

  private RabbitDeadLetter(RabbitSource source) {
    this.options = null;
    this.publisher = null;
    this.connectionFactory = null;
    this.viaSource = source;
    this.owned = null;
  }

  /** A publishing sink with these options. It connects on first use. */
  public static RabbitDeadLetter create(RabbitDeadLetterOptions options) {
    return new RabbitDeadLetter(Objects.requireNonNull(options, "options"));
  }

  /**
   * A publishing sink to {@code queue} (through the default exchange) of the broker at {@code uri},
   * with the default options: the queue must exist.
   */
  public static RabbitDeadLetter create(String uri, String queue) {
    return create(RabbitDeadLetterOptions.builder().uri(uri).queue(queue).build());
  }

  /**
   * Dead-letters through the dead-letter exchange of {@code source}'s queue ({@code
   * x-dead-letter-exchange}): see the class comment. Only deliveries of {@code source} can be
   * dead-lettered this way; for any other, {@link #publish} errors (and the pipeline nacks).
   */
  public static RabbitDeadLetter viaQueueDeadLetterExchange(RabbitSource source) {
    return new RabbitDeadLetter(Objects.requireNonNull(source, "source"));
  }

  /** The options of a publishing sink, or null for one through the queue's dead-letter exchange. */
  public @Nullable RabbitDeadLetterOptions options() {
    return options;
  }

  /**
   * A publishing sink: declares the dead-letter queue when {@link
   * RabbitDeadLetterOptions#declareQueue()} is set, and otherwise checks that the queue (or the
   * exchange) exists; errors with a {@link RabbitOperationException} naming it when it is missing
   * or the broker cannot be reached. Through the queue's dead-letter exchange: completes at once
   * (the source checks its queue when it subscribes). Each subscription checks again.
   */
  @Override
  public Mono<Void> ready() {
    RabbitDeadLetterOptions o = options;
    if (o == null) {
      return Mono.empty();
    }
    return Mono.<Void>fromRunnable(() -> checkOrDeclare(o)).subscribeOn(o.scheduler());
  }

  private void checkOrDeclare(RabbitDeadLetterOptions o) {
    ConnectionFactory cf = Objects.requireNonNull(connectionFactory);
    String queue = o.queue();
    if (queue == null) {
      Topology.requireExchange(Objects.requireNonNull(publisher).template(), o.exchange());
    } else if (o.declareQueue()) {
      Topology.declareQueue(cf, queue, o.queueArguments());
      declared = true;
    } else {
      Topology.requireQueue(cf, queue, "declare it, or set declareQueue(true)");
    }
  }

  @Override
  public Mono<Void> publish(DeadLetter deadLetter) {
    Objects.requireNonNull(deadLetter, "deadLetter");
    RabbitSource source = viaSource;
    if (source != null) {
      return Mono.defer(
          () ->
              source.deadLetterOnAck(deadLetter.envelope().origin())
                  ? Mono.<Void>empty()
                  : Mono.error(
                      RabbitOperationException.settle(
                          RabbitOperationException.DEAD_LETTER,
                          deadLetter.envelope().origin().destination(),
                          -1,
                          deadLetter.envelope().messageId(),
                          "it is not an unsettled delivery of "
                              + source.name()
                              + " (settled already, or its channel closed), so it cannot go"
                              + " through the queue's dead-letter exchange",
                          null)));
    }
    RabbitDeadLetterOptions o = Objects.requireNonNull(options);
    ConfirmedPublisher p = Objects.requireNonNull(publisher);
    Mono<Void> declare = o.declareQueue() && !declared ? ready() : Mono.empty();
    return declare.then(
        Mono.defer(
            () ->
                p.send(
                    o.exchange(),
                    o.routingKey(),
                    AmqpMessages.toMessage(deadLetter.envelope(), deadLetter.headers()))));
  }

  /** Where dead letters go, log-safe. */
  @Override
  public String toString() {
    RabbitSource s = viaSource;
    return s != null
        ? "RabbitDeadLetter{via dead-letter exchange of " + s.name() + "}"
        : "RabbitDeadLetter{" + options + "}";
  }

  /** Closes the connection this sink made from a URI and its threads; a given one stays open. */
  @Override
  public void close() {
    Connections.Owned o = owned;
    if (o != null) {
      o.close();
    }
  }
}
