package dev.onceflow.kafka.internal;

import dev.onceflow.core.Delivery;
import dev.onceflow.core.Envelope;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Subscription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.CoreSubscriber;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.core.scheduler.Scheduler;
import reactor.kafka.receiver.KafkaReceiver;
import reactor.kafka.receiver.ReceiverOffset;
import reactor.kafka.receiver.ReceiverOptions;
import reactor.kafka.receiver.ReceiverRecord;
import reactor.util.context.Context;

/**
 * The deliveries of one Kafka consumer: one subscription = one reactor-kafka {@link KafkaReceiver}
 * = one consumer in the group.
 *
 * <ul>
 *   <li><b>Ordered commits.</b> Per partition, a {@link PartitionAcks} keeps records in delivery
 *       order; an ack acknowledges to reactor-kafka only the last record of the prefix of
 *       acknowledged records, so the committed offset never passes an unfinished record.
 *   <li><b>Nack.</b> The record stays unacknowledged (the commit cannot pass it) and is delivered
 *       again by this source, after the nack's delay, from memory. If the consumer stops or loses
 *       the partition first, the record is not committed and the broker delivers it again.
 *   <li><b>Bounded.</b> Records received and not finished (ready, in flight, waiting for
 *       redelivery) never exceed {@code maxInFlight}, and records not yet behind their partition's
 *       commit position (finished or not: an early slow record holds the later ones) never exceed
 *       {@code maxUncommitted}; finished ones are kept only as offsets. The source requests from
 *       reactor-kafka only what downstream asked for within those bounds, and reactor-kafka pauses
 *       the partitions when nothing is requested.
 *   <li><b>Revocation.</b> Before reactor-kafka's revocation commit, the revoked partitions'
 *       trackers are dropped: later acks of their records commit nothing, and records polled before
 *       the revocation that arrive afterwards are dropped (the next owner fetches them again).
 * </ul>
 */
public final class KafkaDeliveryFlux extends Flux<Delivery> {

  private static final Logger log = LoggerFactory.getLogger(KafkaDeliveryFlux.class);

  private final ReceiverOptions<byte[], byte[]> receiverOptions;
  private final int maxInFlight;
  private final int maxUncommitted;
  private final Scheduler timer;
  private final SourceCounters counters;
  private final @Nullable String idHeader;

  /**
   * @param idHeader the header that carries the message id before the convention's, or null
   */
  public KafkaDeliveryFlux(
      ReceiverOptions<byte[], byte[]> receiverOptions,
      int maxInFlight,
      int maxUncommitted,
      Scheduler timer,
      SourceCounters counters,
      @Nullable String idHeader) {
    this.idHeader = idHeader;
    this.receiverOptions = Objects.requireNonNull(receiverOptions, "receiverOptions");
    this.maxInFlight = maxInFlight;
    this.maxUncommitted = maxUncommitted;
    this.timer = Objects.requireNonNull(timer, "timer");
    this.counters = Objects.requireNonNull(counters, "counters");
  }

  @Override
  public void subscribe(CoreSubscriber<? super Delivery> actual) {
    Session session = new Session(actual, maxInFlight, maxUncommitted, timer, counters, idHeader);
    Flux<ReceiverRecord<byte[], byte[]>> records;
    try {
      records = KafkaReceiver.create(new HookedConsumerFactory(session), receiverOptions).receive();
    } catch (RuntimeException e) {
      Operators.error(actual, e);
      return;
    }
    actual.onSubscribe(session);
    records.subscribe(session.upstreamSubscriber);
  }

  private enum State {
    READY,
    OUT,
    WAITING,
    DONE
  }

  /** A received record until it is finished. Guarded by the session lock. */
  private static final class Held {
    final ReceiverRecord<byte[], byte[]> record;
    final TopicPartition partition;
    final Envelope envelope;
    PartitionAcks.@Nullable Entry<ReceiverOffset> entry;
    State state = State.READY;
    int deliveries;

    Held(ReceiverRecord<byte[], byte[]> record, TopicPartition partition, Envelope envelope) {
      this.record = record;
      this.partition = partition;
      this.envelope = envelope;
    }
  }

  /** Per partition: the tracker of the current assignment and the stale-record counters. */
  private static final class PartitionState {
    /** Records of this partition returned by polls. */
    long polled;

    /** Records of this partition that reached the session. */
    long seen;

    /** Records up to this count were polled before the last revocation: stale. */
    long staleUntil;

    @Nullable PartitionAcks<ReceiverOffset> acks;
  }

  static final class Session implements Subscription, HookedConsumerFactory.Hooks {

    private final CoreSubscriber<? super Delivery> actual;
    private final int maxInFlight;
    private final int maxUncommitted;
    private final Scheduler timer;
    private final SourceCounters counters;
    private final @Nullable String idHeader;

    private final Object lock = new Object();
    private final Map<TopicPartition, PartitionState> partitions = new HashMap<>();
    private final ArrayDeque<Held> ready = new ArrayDeque<>();
    private final Disposable.Composite timers = Disposables.composite();
    private int held;
    private int uncommitted;
    private long outstanding;
    private boolean closed;

    final Upstream upstreamSubscriber = new Upstream();

    private volatile @Nullable Subscription upstream;

    @SuppressWarnings("rawtypes")
    private static final AtomicReferenceFieldUpdater<Session, Subscription> UPSTREAM =
        AtomicReferenceFieldUpdater.newUpdater(Session.class, Subscription.class, "upstream");

    private volatile long requested;

    @SuppressWarnings("rawtypes")
    private static final AtomicLongFieldUpdater<Session> REQUESTED =
        AtomicLongFieldUpdater.newUpdater(Session.class, "requested");

    private final AtomicInteger wip = new AtomicInteger();
    private volatile boolean cancelled;
    private volatile boolean done;
    private @Nullable Throwable error;

    Session(
        CoreSubscriber<? super Delivery> actual,
        int maxInFlight,
        int maxUncommitted,
        Scheduler timer,
        SourceCounters counters,
        @Nullable String idHeader) {
      this.idHeader = idHeader;
      this.actual = actual;
      this.maxInFlight = maxInFlight;
      this.maxUncommitted = maxUncommitted;
      this.timer = timer;
      this.counters = counters;
    }

    // ---- downstream subscription

    @Override
    public void request(long n) {
      if (Operators.validate(n)) {
        Operators.addCap(REQUESTED, this, n);
        drain();
      }
    }

    @Override
    public void cancel() {
      if (cancelled) {
        return;
      }
      cancelled = true;
      Operators.terminate(UPSTREAM, this);
      close();
    }

    private void close() {
      timers.dispose();
      synchronized (lock) {
        if (closed) {
          return;
        }
        for (Held h : ready) {
          h.state = State.DONE;
        }
        ready.clear();
        counters.held.addAndGet(-held);
        held = 0;
        closed = true;
      }
    }

    // ---- consumer-thread hooks

    @Override
    public void polled(ConsumerRecords<?, ?> records) {
      synchronized (lock) {
        for (TopicPartition tp : records.partitions()) {
          partitions.computeIfAbsent(tp, k -> new PartitionState()).polled +=
              records.records(tp).size();
        }
      }
      counters.polled.addAndGet(records.count());
    }

    @Override
    public void revoked(Collection<TopicPartition> revoked) {
      int dropped = 0;
      synchronized (lock) {
        for (TopicPartition tp : revoked) {
          PartitionState st = partitions.get(tp);
          if (st != null) {
            st.staleUntil = st.polled;
            PartitionAcks<ReceiverOffset> acks = st.acks;
            if (acks != null) {
              uncommitted -= acks.pending();
            }
            st.acks = null;
          }
        }
        Iterator<Held> it = ready.iterator();
        while (it.hasNext()) {
          Held h = it.next();
          if (revoked.contains(h.partition)) {
            it.remove();
            h.state = State.DONE;
            dropped++;
          }
        }
        unhold(dropped);
      }
      log.debug("partitions revoked: {} ({} ready records dropped)", revoked, dropped);
      // No drain here: this is the consumer's thread, and dropping records only frees capacity
      // that the next request or settlement uses.
    }

    // ---- upstream records

    final class Upstream implements CoreSubscriber<ReceiverRecord<byte[], byte[]>> {

      @Override
      public Context currentContext() {
        return actual.currentContext();
      }

      @Override
      public void onSubscribe(Subscription s) {
        if (Operators.setOnce(UPSTREAM, Session.this, s)) {
          drain();
        }
      }

      @Override
      public void onNext(ReceiverRecord<byte[], byte[]> record) {
        Envelope envelope = KafkaEnvelopes.toEnvelope(record, false, idHeader);
        TopicPartition tp = record.receiverOffset().topicPartition();
        IllegalStateException failure = null;
        synchronized (lock) {
          if (outstanding > 0) {
            outstanding--;
          }
          if (closed) {
            return;
          }
          PartitionState st = partitions.computeIfAbsent(tp, k -> new PartitionState());
          st.seen++;
          if (st.seen <= st.staleUntil) {
            counters.staleDropped.incrementAndGet();
          } else {
            if (st.acks == null) {
              st.acks = new PartitionAcks<>();
            }
            Held h = new Held(record, tp, envelope);
            try {
              h.entry = st.acks.add(record.offset(), record.receiverOffset());
              uncommitted++;
              ready.addLast(h);
              hold();
            } catch (IllegalStateException e) {
              failure = e;
            }
          }
        }
        if (failure != null) {
          Operators.terminate(UPSTREAM, Session.this);
          onError(new IllegalStateException("partition " + tp + ": " + failure.getMessage()));
          return;
        }
        drain();
      }

      @Override
      public void onError(Throwable t) {
        if (done) {
          Operators.onErrorDropped(t, actual.currentContext());
          return;
        }
        error = t;
        done = true;
        drain();
      }

      @Override
      public void onComplete() {
        if (done) {
          return;
        }
        done = true;
        drain();
      }
    }

    // ---- settlement

    private Mono<Void> ack(Held h) {
      return Mono.fromRunnable(
          () -> {
            synchronized (lock) {
              if (h.state != State.OUT) {
                return;
              }
              h.state = State.DONE;
              unhold(1);
              counters.acked.incrementAndGet();
              PartitionState st = partitions.get(h.partition);
              PartitionAcks.Entry<ReceiverOffset> entry = Objects.requireNonNull(h.entry);
              PartitionAcks<ReceiverOffset> acks = st == null ? null : st.acks;
              if (!closed && acks != null && acks == entry.owner()) {
                int before = acks.pending();
                PartitionAcks.Entry<ReceiverOffset> last = acks.ack(entry);
                uncommitted -= before - acks.pending();
                if (last != null) {
                  // reactor-kafka commits this record's offset + 1 at the next commit
                  last.value().acknowledge();
                  counters.commitsRequested.incrementAndGet();
                }
              } else {
                counters.settledAfterRevocation.incrementAndGet();
              }
            }
            drain();
          });
    }

    private Mono<Void> nack(Held h, Duration delay) {
      return Mono.fromRunnable(
          () -> {
            boolean wait = false;
            synchronized (lock) {
              if (h.state != State.OUT) {
                return;
              }
              counters.nacked.incrementAndGet();
              if (!current(h)) {
                h.state = State.DONE;
                unhold(1);
                counters.settledAfterRevocation.incrementAndGet();
              } else if (delay.isZero()) {
                h.state = State.READY;
                ready.addLast(h);
              } else {
                h.state = State.WAITING;
                wait = true;
              }
            }
            if (wait) {
              scheduleRedelivery(h, delay);
            } else {
              drain();
            }
          });
    }

    private void scheduleRedelivery(Held h, Duration delay) {
      Disposable.Swap slot = Disposables.swap();
      if (!timers.add(slot)) {
        expire(h);
        return;
      }
      try {
        slot.update(
            timer.schedule(
                () -> {
                  timers.remove(slot);
                  synchronized (lock) {
                    if (h.state != State.WAITING) {
                      return;
                    }
                    if (current(h)) {
                      h.state = State.READY;
                      ready.addLast(h);
                    } else {
                      h.state = State.DONE;
                      unhold(1);
                    }
                  }
                  drain();
                },
                delay.toMillis(),
                TimeUnit.MILLISECONDS));
      } catch (RejectedExecutionException e) {
        timers.remove(slot);
        expire(h);
      }
    }

    /** A waiting record that can no longer be redelivered here: the broker will redeliver it. */
    private void expire(Held h) {
      synchronized (lock) {
        if (h.state == State.WAITING) {
          h.state = State.DONE;
          unhold(1);
        }
      }
      drain();
    }

    /** Whether the record's partition is still assigned with the tracker it was added to. */
    private boolean current(Held h) {
      if (closed) {
        return false;
      }
      PartitionState st = partitions.get(h.partition);
      return st != null && h.entry != null && st.acks == h.entry.owner();
    }

    private void hold() {
      held++;
      long now = counters.held.incrementAndGet();
      counters.maxHeld.accumulateAndGet(now, Math::max);
    }

    private void unhold(int n) {
      if (n > 0 && !closed) {
        held -= n;
        counters.held.addAndGet(-n);
      }
    }

    private @Nullable Delivery nextReady() {
      synchronized (lock) {
        Held h = ready.pollFirst();
        if (h == null) {
          return null;
        }
        h.state = State.OUT;
        h.deliveries++;
        Envelope env = h.envelope;
        if (h.deliveries > 1) {
          env = env.toBuilder().origin(KafkaEnvelopes.origin(h.record, true)).build();
          counters.redelivered.incrementAndGet();
        }
        counters.delivered.incrementAndGet();
        return Delivery.of(env, () -> ack(h), delay -> nack(h, delay));
      }
    }

    // ---- the drain loop: emits ready deliveries on demand, requests within the bound

    private void drain() {
      if (wip.getAndIncrement() != 0) {
        return;
      }
      int missed = 1;
      for (; ; ) {
        if (cancelled) {
          return;
        }
        long r = requested;
        long e = 0;
        while (e != r) {
          if (cancelled) {
            return;
          }
          Delivery d = nextReady();
          if (d == null) {
            break;
          }
          actual.onNext(d);
          e++;
        }
        if (e != 0) {
          r = Operators.produced(REQUESTED, this, e);
        }
        if (done) {
          cancelled = true;
          close();
          Throwable ex = error;
          if (ex != null) {
            actual.onError(ex);
          } else {
            actual.onComplete();
          }
          return;
        }
        Subscription up = upstream;
        if (up != null && up != Operators.cancelledSubscription()) {
          long want;
          synchronized (lock) {
            long room = Math.min((long) maxInFlight - held, (long) maxUncommitted - uncommitted);
            want = Math.min(r, room) - outstanding;
            if (want > 0) {
              outstanding += want;
            }
          }
          if (want > 0) {
            up.request(want);
          }
        }
        missed = wip.addAndGet(-missed);
        if (missed == 0) {
          return;
        }
      }
    }
  }
}
