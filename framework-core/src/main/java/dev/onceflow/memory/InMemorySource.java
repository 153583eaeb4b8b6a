package dev.onceflow.memory;

import dev.onceflow.core.BrokerKind;
import dev.onceflow.core.Delivery;
import dev.onceflow.core.Envelope;
import dev.onceflow.core.MessageSource;
import dev.onceflow.core.Origin;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * An in-memory queue with broker semantics, for tests and the embedded demo. Thread-safe.
 *
 * <ul>
 *   <li>Deliveries are emitted only on demand (like a prefetch window).
 *   <li>A nacked delivery is delivered again, after the nack's delay (on the source's scheduler).
 *   <li>When the consuming subscription is cancelled, every unacked delivery goes back to the
 *       queue, flagged redelivered, and later settlements of those deliveries fail (as on a closed
 *       channel).
 *   <li>The attempt of each delivery is counted, as RabbitMQ's {@code x-delivery-count} or SQS's
 *       {@code ApproximateReceiveCount} do.
 * </ul>
 *
 * <p>With {@link #completeWhenDrained()}, the stream completes once the queue is empty and every
 * delivery is acked: handy for finite tests and demos.
 */
public final class InMemorySource implements MessageSource {

  private final String queue;
  private final Scheduler scheduler;
  private volatile boolean completeWhenDrained;

  private final Object lock = new Object();
  private final ArrayDeque<Stored> ready = new ArrayDeque<>();
  private final Map<Long, Stored> unacked = new HashMap<>();
  private final AtomicInteger wip = new AtomicInteger();
  private @Nullable FluxSink<Delivery> sink;
  private long nextTag;
  private long nextOffset;
  private int delayed;
  private long published;
  private long delivered;
  private long acked;
  private long nacked;
  private int maxUnacked;

  private record Stored(Envelope envelope, long offset, int attempts) {}

  private InMemorySource(String queue, Scheduler scheduler, boolean completeWhenDrained) {
    this.queue = Objects.requireNonNull(queue, "queue");
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.completeWhenDrained = completeWhenDrained;
  }

  /** An endless source over queue {@code queue}, with delayed redeliveries on parallel(). */
  public static InMemorySource create(String queue) {
    return new InMemorySource(queue, Schedulers.parallel(), false);
  }

  /** An endless source whose delayed redeliveries run on {@code scheduler}. */
  public static InMemorySource create(String queue, Scheduler scheduler) {
    return new InMemorySource(queue, scheduler, false);
  }

  /**
   * Makes the stream complete once the queue is empty, nothing is unacked and no delayed redelivery
   * is pending. Returns this source.
   */
  public InMemorySource completeWhenDrained() {
    completeWhenDrained = true;
    drain();
    return this;
  }

  @Override
  public String name() {
    return "memory:" + queue;
  }

  /** Publishes a message with the given id and UTF-8 payload. */
  public InMemorySource publish(@Nullable String messageId, String payload) {
    return publish(
        Envelope.builder()
            .messageId(messageId)
            .payload(payload.getBytes(StandardCharsets.UTF_8))
            .origin(origin(0, 0, false)));
  }

  /**
   * Publishes a message. The builder's origin is replaced by this queue's coordinates; its other
   * fields are kept. Publishing the same id twice is how duplicates are injected.
   */
  public InMemorySource publish(Envelope.Builder message) {
    Objects.requireNonNull(message, "message");
    synchronized (lock) {
      long offset = nextOffset++;
      Envelope e = message.origin(origin(offset, 0, false)).build();
      ready.addLast(new Stored(e, offset, 0));
      published++;
    }
    drain();
    return this;
  }

  /** Publishes an envelope as it is (its origin is replaced by this queue's). */
  public InMemorySource publish(Envelope envelope) {
    return publish(envelope.toBuilder());
  }

  private Origin origin(long offset, int attempt, boolean redelivered) {
    return new Origin(BrokerKind.IN_MEMORY, queue, -1, offset, null, null, redelivered, attempt);
  }

  @Override
  public Flux<Delivery> receive() {
    return Flux.create(
        s -> {
          synchronized (lock) {
            if (sink != null) {
              s.error(
                  new IllegalStateException(
                      "in-memory queue '" + queue + "' already has a consumer"));
              return;
            }
            sink = s;
          }
          s.onRequest(n -> drain());
          s.onDispose(() -> detach(s));
          drain();
        },
        FluxSink.OverflowStrategy.BUFFER);
  }

  private void drain() {
    if (wip.getAndIncrement() != 0) {
      return;
    }
    int missed = 1;
    do {
      List<Delivery> out = new ArrayList<>();
      FluxSink<Delivery> s;
      boolean complete = false;
      synchronized (lock) {
        s = sink;
        if (s != null) {
          long want = s.requestedFromDownstream();
          while (want-- > 0 && !ready.isEmpty()) {
            Stored st = ready.pollFirst();
            Stored next = new Stored(st.envelope, st.offset, st.attempts + 1);
            long tag = nextTag++;
            unacked.put(tag, next);
            maxUnacked = Math.max(maxUnacked, unacked.size());
            delivered++;
            out.add(delivery(tag, next));
          }
          complete = completeWhenDrained && ready.isEmpty() && unacked.isEmpty() && delayed == 0;
        }
      }
      if (s != null) {
        for (Delivery d : out) {
          s.next(d);
        }
        if (complete) {
          s.complete();
        }
      }
      missed = wip.addAndGet(-missed);
    } while (missed != 0);
  }

  private Delivery delivery(long tag, Stored st) {
    Envelope e =
        st.envelope.toBuilder().origin(origin(st.offset, st.attempts, st.attempts > 1)).build();
    return Delivery.of(e, () -> Mono.fromRunnable(() -> ack(tag)), d -> settleNack(tag, d));
  }

  private void ack(long tag) {
    synchronized (lock) {
      if (unacked.remove(tag) == null) {
        throw new IllegalStateException(
            "delivery " + tag + " of '" + queue + "' is no longer valid: its consumer is gone");
      }
      acked++;
    }
    drain();
  }

  private Mono<Void> settleNack(long tag, Duration delay) {
    return Mono.fromRunnable(
        () -> {
          Stored st;
          synchronized (lock) {
            st = unacked.remove(tag);
            if (st == null) {
              throw new IllegalStateException(
                  "delivery "
                      + tag
                      + " of '"
                      + queue
                      + "' is no longer valid: its consumer is gone");
            }
            nacked++;
            if (delay.isZero()) {
              ready.addLast(st);
            } else {
              delayed++;
            }
          }
          if (!delay.isZero()) {
            Stored later = st;
            scheduler.schedule(
                () -> {
                  synchronized (lock) {
                    delayed--;
                    ready.addLast(later);
                  }
                  drain();
                },
                delay.toMillis(),
                java.util.concurrent.TimeUnit.MILLISECONDS);
          }
          drain();
        });
  }

  private void detach(FluxSink<Delivery> s) {
    synchronized (lock) {
      if (sink != s) {
        return;
      }
      sink = null;
      // What the consumer held unacked goes back to the head of the queue, in order.
      List<Map.Entry<Long, Stored>> held = new ArrayList<>(unacked.entrySet());
      held.sort(Map.Entry.comparingByKey());
      for (int i = held.size() - 1; i >= 0; i--) {
        ready.addFirst(held.get(i).getValue());
      }
      unacked.clear();
    }
  }

  /** Messages waiting to be delivered (not counting delayed redeliveries). */
  public int ready() {
    synchronized (lock) {
      return ready.size();
    }
  }

  /** Deliveries handed out and not yet settled. */
  public int unacked() {
    synchronized (lock) {
      return unacked.size();
    }
  }

  /** Nacked deliveries waiting for their delay. */
  public int delayed() {
    synchronized (lock) {
      return delayed;
    }
  }

  /** The most deliveries ever unacked at once: checks the in-flight bound. */
  public int maxUnacked() {
    synchronized (lock) {
      return maxUnacked;
    }
  }

  public long published() {
    synchronized (lock) {
      return published;
    }
  }

  public long delivered() {
    synchronized (lock) {
      return delivered;
    }
  }

  public long acked() {
    synchronized (lock) {
      return acked;
    }
  }

  public long nacked() {
    synchronized (lock) {
      return nacked;
    }
  }

  /** Whether nothing is left: queue empty, nothing unacked, no delayed redelivery pending. */
  public boolean drained() {
    synchronized (lock) {
      return ready.isEmpty() && unacked.isEmpty() && delayed == 0;
    }
  }
}
