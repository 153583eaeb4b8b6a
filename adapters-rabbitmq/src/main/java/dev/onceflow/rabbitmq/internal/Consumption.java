package dev.onceflow.rabbitmq.internal;

import com.rabbitmq.client.Channel;
import dev.onceflow.core.Delivery;
import dev.onceflow.core.Envelope;
import dev.onceflow.rabbitmq.RabbitOperationException;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.amqp.core.AcknowledgeMode;
import org.springframework.amqp.core.Message;
import org.springframework.amqp.core.MessageProperties;
import org.springframework.amqp.rabbit.connection.ChannelProxy;
import org.springframework.amqp.rabbit.connection.ConnectionFactory;
import org.springframework.amqp.rabbit.listener.DirectMessageListenerContainer;
import org.springframework.amqp.rabbit.listener.api.ChannelAwareMessageListener;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * One subscription of a RabbitMQ source: a spring-amqp {@link DirectMessageListenerContainer} in
 * MANUAL acknowledge mode whose listener hands deliveries to a {@link FluxSink} as downstream
 * demands them.
 *
 * <p>Bound: the broker never has more than {@code prefetch} unacked deliveries per consumer ({@code
 * basic.qos}), so the hand-over buffer, sized {@code prefetch * consumers}, never fills while the
 * channels live; when downstream asks for nothing, deliveries wait there and the broker stops
 * sending once the prefetch window is full. Deliveries of a channel that closed are dropped from
 * the buffer (the broker requeues them); should the buffer still be full, the delivery is rejected
 * with requeue rather than queued beyond the bound.
 */
public final class Consumption implements ChannelAwareMessageListener {

  private static final Logger log = LoggerFactory.getLogger(Consumption.class);

  private final String sourceName;
  private final String queue;
  private final @Nullable URI uri;
  private final @Nullable ConnectionFactory givenConnectionFactory;
  private final int prefetch;
  private final int consumers;
  private final boolean declareQueue;
  private final Map<String, Object> queueArguments;
  private final @Nullable String retryQueue;
  private final boolean holdDelays;
  private final Duration confirmTimeout;
  private final Duration recoveryInterval;
  private final Scheduler scheduler;
  private final @Nullable String idHeader;
  private final FluxSink<Delivery> sink;
  private final ConcurrentMap<String, RabbitDelivery> inFlight;
  private final LinkedBlockingQueue<RabbitDelivery> buffer;
  private final AtomicInteger wip = new AtomicInteger();
  private final Disposable.Composite timers = Disposables.composite();
  private final Object lifecycle = new Object();
  private volatile boolean closed;
  private Connections.@Nullable Owned ownedConnectionFactory;
  private @Nullable DirectMessageListenerContainer container;
  private volatile @Nullable ConfirmedPublisher retryPublisher;

  /** The settings of one consumption, as the public options hold them. */
  public record Settings(
      String sourceName,
      String queue,
      @Nullable URI uri,
      @Nullable ConnectionFactory connectionFactory,
      int prefetch,
      int consumers,
      boolean declareQueue,
      Map<String, Object> queueArguments,
      @Nullable String retryQueue,
      boolean holdDelays,
      Duration confirmTimeout,
      Duration recoveryInterval,
      Scheduler scheduler,
      @Nullable String idHeader) {}

  public Consumption(
      Settings s, FluxSink<Delivery> sink, ConcurrentMap<String, RabbitDelivery> inFlight) {
    this.sourceName = s.sourceName();
    this.queue = s.queue();
    this.uri = s.uri();
    this.givenConnectionFactory = s.connectionFactory();
    this.prefetch = s.prefetch();
    this.consumers = s.consumers();
    this.declareQueue = s.declareQueue();
    this.queueArguments = s.queueArguments();
    this.retryQueue = s.retryQueue();
    this.holdDelays = s.holdDelays();
    this.confirmTimeout = s.confirmTimeout();
    this.recoveryInterval = s.recoveryInterval();
    this.scheduler = s.scheduler();
    this.idHeader = s.idHeader();
    this.sink = Objects.requireNonNull(sink, "sink");
    this.inFlight = Objects.requireNonNull(inFlight, "inFlight");
    // Linked, not array-backed: the bound can be large (65535 x 1000) but is rarely reached.
    this.buffer = new LinkedBlockingQueue<>(prefetch * consumers);
  }

  /**
   * Declares or checks the topology and starts the container. Blocking: runs on the source's
   * lifecycle scheduler. Errors the sink when the queue is missing or the broker cannot be reached.
   */
  public void start() {
    try {
      synchronized (lifecycle) {
        if (closed) {
          return;
        }
        ConnectionFactory cf = givenConnectionFactory;
        if (cf == null) {
          Connections.Owned own = Connections.fromUri(Objects.requireNonNull(uri), sourceName);
          ownedConnectionFactory = own;
          cf = own.factory();
        }
        if (declareQueue) {
          Topology.declareQueue(cf, queue, queueArguments);
        } else {
          Topology.requireQueue(
              cf, queue, "declare it, or set declareQueue(true) on RabbitSourceOptions");
        }
        String rq = retryQueue;
        if (rq != null) {
          Map<String, Object> args = new HashMap<>();
          args.put("x-dead-letter-exchange", "");
          args.put("x-dead-letter-routing-key", queue);
          Topology.declareQueue(cf, rq, args);
          retryPublisher = new ConfirmedPublisher(cf, confirmTimeout, scheduler);
        }
        DirectMessageListenerContainer c = new DirectMessageListenerContainer(cf);
        c.setQueueNames(queue);
        c.setConsumersPerQueue(consumers);
        c.setPrefetchCount(prefetch);
        c.setGlobalQos(false);
        c.setAcknowledgeMode(AcknowledgeMode.MANUAL);
        c.setMessageListener(this);
        c.setAutoStartup(false);
        c.setMissingQueuesFatal(false);
        c.setRecoveryInterval(recoveryInterval.toMillis());
        // DMLC restarts a cancelled consumer only after this interval, not the recovery one.
        c.setFailedDeclarationRetryInterval(recoveryInterval.toMillis());
        c.setMonitorInterval(Math.min(10_000L, Math.max(100L, recoveryInterval.toMillis())));
        c.setListenerId(sourceName);
        c.afterPropertiesSet();
        container = c;
        c.start();
        log.debug("{} consuming with prefetch {} x {} consumers", sourceName, prefetch, consumers);
      }
    } catch (RuntimeException e) {
      log.warn("{} could not start: {}", sourceName, e.toString());
      sink.error(e);
    }
  }

  /** Stops the container (closing its channels: the broker requeues what is unacked). */
  public void close() {
    closed = true;
    timers.dispose();
    synchronized (lifecycle) {
      DirectMessageListenerContainer c = container;
      container = null;
      if (c != null) {
        try {
          c.stop();
          c.destroy();
        } catch (RuntimeException e) {
          log.warn("{}: stopping the listener container failed", sourceName, e);
        }
      }
      buffer.clear();
      inFlight.values().removeIf(d -> d.consumption() == this);
      Connections.Owned owned = ownedConnectionFactory;
      ownedConnectionFactory = null;
      if (owned != null) {
        owned.close();
      }
    }
    log.debug("{} closed", sourceName);
  }

  /** Runs on an amqp-client consumer thread, one delivery at a time per channel. */
  @Override
  public void onMessage(Message message, Channel channel) {
    if (closed) {
      return; // the channel is being closed: the broker requeues the delivery
    }
    Channel target = channel instanceof ChannelProxy proxy ? proxy.getTargetChannel() : channel;
    MessageProperties p = message.getMessageProperties();
    long tag = p.getDeliveryTag();
    String receipt = tag + "@" + p.getConsumerTag();
    Envelope envelope = AmqpMessages.toEnvelope(message, queue, receipt, idHeader);
    RabbitDelivery d = new RabbitDelivery(this, target, tag, receipt, message, envelope);
    if (!buffer.offer(d)) {
      buffer.removeIf(x -> !x.channel().isOpen());
      if (!buffer.offer(d)) {
        log.warn(
            "{}: hand-over buffer full ({} deliveries), requeueing a delivery",
            sourceName,
            buffer.size());
        rejectQuietly(d, true);
        return;
      }
    }
    drain();
  }

  /** Emits buffered deliveries while downstream has demand. Serialized; any thread. */
  public void drain() {
    if (wip.getAndIncrement() != 0) {
      return;
    }
    int missed = 1;
    do {
      while (!closed && sink.requestedFromDownstream() > 0) {
        RabbitDelivery d = buffer.poll();
        if (d == null) {
          break;
        }
        if (!d.channel().isOpen()) {
          continue; // its channel closed: the broker redelivers it
        }
        inFlight.put(d.receipt(), d);
        sink.next(d.delivery());
      }
      missed = wip.addAndGet(-missed);
    } while (missed != 0);
  }

  /** How many deliveries wait in the hand-over buffer. */
  public int buffered() {
    return buffer.size();
  }

  Mono<Void> ack(RabbitDelivery d) {
    return Mono.<Void>fromRunnable(
            () -> {
              inFlight.remove(d.receipt(), d);
              boolean reject = d.deadLetterOnAckRequested();
              try {
                if (reject) {
                  d.channel().basicReject(d.deliveryTag(), false);
                } else {
                  d.channel().basicAck(d.deliveryTag(), false);
                }
              } catch (IOException | RuntimeException e) {
                throw settleFailed(
                    d, reject ? RabbitOperationException.REJECT : RabbitOperationException.ACK, e);
              }
            })
        .subscribeOn(scheduler);
  }

  Mono<Void> nack(RabbitDelivery d, Duration delay) {
    if (delay.isZero() || (!holdDelays && retryPublisher == null)) {
      return Mono.<Void>fromRunnable(() -> requeue(d)).subscribeOn(scheduler);
    }
    ConfirmedPublisher publisher = retryPublisher;
    if (publisher != null) {
      String rq = Objects.requireNonNull(retryQueue);
      Message copy =
          AmqpMessages.retryCopy(d.message(), d.envelope().origin().attempt(), delay.toMillis());
      return publisher
          .send("", rq, copy)
          .then(
              Mono.<Void>fromRunnable(
                      () -> {
                        inFlight.remove(d.receipt(), d);
                        try {
                          d.channel().basicAck(d.deliveryTag(), false);
                        } catch (IOException | RuntimeException e) {
                          // The copy is in the retry queue and the original comes back: a
                          // duplicate, which deduplication absorbs. Nothing is lost.
                          throw settleFailed(d, RabbitOperationException.ACK, e);
                        }
                      })
                  .subscribeOn(scheduler))
          .onErrorResume(
              e ->
                  !(e instanceof RabbitOperationException r)
                      || RabbitOperationException.PUBLISH.equals(r.operation()),
              e -> {
                log.warn(
                    "{}: republishing to retry queue '{}' failed ({}); requeueing at once",
                    sourceName,
                    rq,
                    e.toString());
                return Mono.<Void>fromRunnable(() -> requeue(d)).subscribeOn(scheduler);
              });
    }
    return Mono.fromRunnable(() -> hold(d, delay));
  }

  private void hold(RabbitDelivery d, Duration delay) {
    inFlight.remove(d.receipt(), d);
    AtomicReference<@Nullable Disposable> self = new AtomicReference<>();
    Disposable task =
        scheduler.schedule(
            () -> {
              Disposable me = self.get();
              if (me != null) {
                timers.remove(me);
              }
              rejectQuietly(d, true);
            },
            delay.toMillis(),
            TimeUnit.MILLISECONDS);
    self.set(task);
    if (!timers.add(task)) {
      task.dispose(); // closed meanwhile: the channel closes and the broker requeues it
    }
  }

  private void requeue(RabbitDelivery d) {
    inFlight.remove(d.receipt(), d);
    try {
      d.channel().basicNack(d.deliveryTag(), false, true);
    } catch (IOException | RuntimeException e) {
      throw settleFailed(d, RabbitOperationException.REQUEUE, e);
    }
  }

  private void rejectQuietly(RabbitDelivery d, boolean requeue) {
    try {
      if (d.channel().isOpen()) {
        d.channel().basicNack(d.deliveryTag(), false, requeue);
      }
    } catch (IOException | RuntimeException e) {
      log.debug(
          "{}: requeue of delivery {} failed; its channel closed", sourceName, d.receipt(), e);
    }
  }

  private RabbitOperationException settleFailed(RabbitDelivery d, String operation, Exception e) {
    return RabbitOperationException.settle(
        operation,
        queue,
        d.deliveryTag(),
        d.envelope().messageId(),
        "delivery "
            + d.receipt()
            + " of "
            + sourceName
            + " could not be settled (the broker redelivers it once its channel is closed): "
            + e,
        e);
  }
}
