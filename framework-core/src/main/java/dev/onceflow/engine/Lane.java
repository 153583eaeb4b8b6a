package dev.onceflow.engine;

import dev.onceflow.engine.KeyResolver.Key;
import dev.onceflow.engine.KeyResolver.Reject;
import dev.onceflow.handler.Handled;
import dev.onceflow.handler.Message;
import dev.onceflow.outcome.NackReason;
import dev.onceflow.outcome.Outcome;
import dev.onceflow.store.AcquireRequest;
import dev.onceflow.store.AcquireResult;
import dev.onceflow.store.Completion;
import dev.onceflow.store.Lease;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;

/**
 * One delivery through the common path, as a state machine instead of a chain of operators: it
 * subscribes itself to each step's {@code Mono} in turn (acquire, handler, complete, ack), so that
 * a message costs a handful of objects. Every step is {@link LeaseFlow}'s, and anything unusual (a
 * paused store or breaker, a key in progress, a failed call, a rejected message) hands the rest
 * over to the operator path ({@link LeaseFlow}, {@link HandlerRunner}) and then to {@link
 * Settlement}.
 *
 * <p>Signals of one step are serialized by the step's source; steps follow each other. A step moves
 * on in {@code onComplete} (a {@code Mono} signals its value first), so that the next subscription
 * never overlaps the previous one. Cancellation and a lost lease may come from other threads: they
 * win or lose a compare-and-set on the step.
 */
final class Lane implements CoreSubscriber<Object>, Subscription, Runnable {
  private static final Logger log = LoggerFactory.getLogger(Lane.class);

  private static final int ACQUIRE = 1;
  private static final int HANDLE = 2;
  private static final int HANDLE_SLOW = 3;
  private static final int COMPLETE = 4;
  private static final int ACK = 5;
  private static final int VERDICT = 6;
  private static final int SETTLE = 7;
  private static final int DONE = 8;
  private static final int LOST = 9;

  private static final AtomicIntegerFieldUpdater<Lane> STEP =
      AtomicIntegerFieldUpdater.newUpdater(Lane.class, "step");

  final Run run;
  final LeaseFlow flow;
  final InFlight f;
  final CoreSubscriber<? super Outcome<Object>> actual;

  volatile int step;
  volatile boolean cancelled;
  volatile @Nullable Subscription upstream;
  @Nullable Object value;
  @Nullable Key key;
  @Nullable Message<Object> message;
  long started;
  boolean permitted;
  @Nullable Outcome<Object> outcome;

  Lane(Run run, InFlight f, CoreSubscriber<? super Outcome<Object>> actual) {
    this.run = run;
    this.flow = run.flow();
    this.f = f;
    this.actual = actual;
  }

  void start() {
    actual.onSubscribe(this);
    if (run.stopping()) {
      settle(Verdict.nack(NackReason.STOPPED, null));
      return;
    }
    KeyResolver.Resolution r = flow.keys.resolve(f.envelope());
    if (r instanceof Reject rej) {
      settle(flow.rejected(f, rej));
      return;
    }
    Key k = (Key) r;
    key = k;
    f.key = k.key();
    if (flow.dedup == null || flow.store == null) {
      handle(k.key(), 0);
      return;
    }
    AcquireRequest req = flow.request(f, k);
    if (flow.storeGate.paused() || flow.breakerGate.tripped()) {
      verdict(flow.acquire(f, k, req, 0));
      return;
    }
    next(ACQUIRE, flow.store.acquire(req));
  }

  /** Subscribes to {@code source} as step {@code s}. */
  private void next(int s, @Nullable Publisher<?> source) {
    step = s;
    value = null;
    if (cancelled) {
      return;
    }
    if (source == null) {
      onError(new IllegalStateException("a step returned null instead of a Mono"));
      return;
    }
    source.subscribe(this);
  }

  @Override
  public void onSubscribe(Subscription s) {
    upstream = s;
    if (cancelled) {
      s.cancel();
    } else {
      s.request(Long.MAX_VALUE);
    }
  }

  @Override
  public void onNext(Object v) {
    value = v;
  }

  @Override
  public void onComplete() {
    Object v = value;
    value = null;
    switch (step) {
      case ACQUIRE -> acquired((AcquireResult) Objects.requireNonNull(v, "acquire was empty"));
      case COMPLETE -> {
        Message<Object> m = Objects.requireNonNull(message);
        Outcome<Object> processed = Objects.requireNonNull(outcome);
        Verdict verdict = flow.completed(f, m.key(), m.fence(), Boolean.TRUE.equals(v), processed);
        if (verdict instanceof Verdict.Ack a) {
          ack(a.outcome());
        } else {
          settle(verdict);
        }
      }
      case ACK -> finish(run.settlement().finish(f, Objects.requireNonNull(outcome)));
      case VERDICT -> settle((Verdict) Objects.requireNonNull(v, "verdict"));
      case SETTLE -> finish(v == null ? null : castOutcome(v));
      default -> {}
    }
  }

  @Override
  public void onError(Throwable t) {
    switch (step) {
      case ACQUIRE -> settle(flow.acquireFailed(Objects.requireNonNull(key), t));
      case COMPLETE -> {
        Message<Object> m = Objects.requireNonNull(message);
        settle(flow.completeFailed(f, m.key(), t, 1));
      }
      case ACK -> {
        log.warn(
            "pipeline '{}': ack of key '{}' failed after its outcome was recorded: {}",
            flow.config.name(),
            LogSafe.key(f.key),
            t.toString());
        finish(run.settlement().finish(f, Objects.requireNonNull(outcome)));
      }
      default -> {
        log.error(
            "pipeline '{}': unexpected error on key '{}'; nacking",
            flow.config.name(),
            LogSafe.key(f.key),
            t);
        if (step == SETTLE) {
          finish(null);
        } else {
          settle(Verdict.nack(NackReason.UNEXPECTED_ERROR, t));
        }
      }
    }
  }

  private void acquired(AcquireResult result) {
    flow.storeGate.success();
    Key k = Objects.requireNonNull(key);
    if (result instanceof AcquireResult.Acquired a) {
      Lease lease = flow.acquired(f, a);
      handle(lease.key(), lease.fence());
    } else if (result instanceof AcquireResult.InProgress) {
      verdict(flow.acquire(f, k, flow.request(f, k), 1));
    } else {
      Verdict v = flow.notAcquired(f, k, result);
      if (v instanceof Verdict.Ack a) {
        ack(a.outcome());
      } else {
        settle(v);
      }
    }
  }

  private void handle(String k, long fence) {
    Object payload = flow.decode(f);
    if (payload instanceof Verdict v) {
      settle(v);
      return;
    }
    Message<Object> m = new Message<>(payload, f.envelope(), k, fence, 1);
    message = m;
    LeaseHeartbeat heartbeat = flow.heartbeat;
    if (heartbeat != null && f.lease != null) {
      heartbeat.beatFrom(f);
      f.onLost = this;
    }
    if (cancelled) {
      return;
    }
    if (!flow.runner.fresh(k) || !flow.runner.permit()) {
      handler(HANDLE_SLOW, flow.runner.run(m));
      return;
    }
    permitted = true;
    started = System.nanoTime();
    handler(HANDLE, flow.runner.call(m));
  }

  /**
   * Subscribes to the handler's {@code Mono} through its own subscriber: a lost lease may end this
   * step from the heartbeat's thread, and a late signal of the handler must then find no step to
   * act on.
   */
  private void handler(int s, Publisher<?> source) {
    step = s;
    if (!cancelled) {
      source.subscribe(new HandlerStep(s));
    }
  }

  private final class HandlerStep implements CoreSubscriber<Object> {
    private final int mode;
    private @Nullable Object result;

    HandlerStep(int mode) {
      this.mode = mode;
    }

    @Override
    public void onSubscribe(Subscription s) {
      Lane.this.onSubscribe(s);
    }

    @Override
    public void onNext(Object v) {
      result = v;
    }

    @Override
    public void onComplete() {
      Object v = result;
      if (!STEP.compareAndSet(Lane.this, mode, COMPLETE)) {
        return;
      }
      f.onLost = null;
      if (mode == HANDLE) {
        Message<Object> m = Objects.requireNonNull(message);
        flow.runner.succeededCall(m, System.nanoTime() - started);
        @SuppressWarnings("unchecked")
        Handled<Object> h = v == null ? Handled.of(null) : (Handled<Object>) v;
        handled(new HandlerRunner.Result(h, null, null, 1, null, null));
      } else {
        handled((HandlerRunner.Result) Objects.requireNonNull(v, "handler result"));
      }
    }

    @Override
    public void onError(Throwable t) {
      if (mode == HANDLE && STEP.compareAndSet(Lane.this, HANDLE, HANDLE_SLOW)) {
        Message<Object> m = Objects.requireNonNull(message);
        flow.runner.failedCall(m, System.nanoTime() - started, t);
        handler(HANDLE_SLOW, flow.runner.resume(m, t));
      } else if (mode == HANDLE_SLOW && STEP.compareAndSet(Lane.this, HANDLE_SLOW, SETTLE)) {
        f.onLost = null;
        log.error(
            "pipeline '{}': unexpected error on key '{}'; nacking",
            flow.config.name(),
            LogSafe.key(f.key),
            t);
        settle(Verdict.nack(NackReason.UNEXPECTED_ERROR, t));
      }
    }
  }

  /** The lease was lost while the handler ran (the heartbeat calls this). */
  @Override
  public void run() {
    int s = step;
    if ((s == HANDLE || s == HANDLE_SLOW) && STEP.compareAndSet(this, s, LOST)) {
      Subscription up = upstream;
      if (up != null) {
        up.cancel();
      }
      if (s == HANDLE && permitted) {
        flow.runner.unpermit();
      }
      Message<Object> m = Objects.requireNonNull(message);
      settle(flow.leaseLost(f, m.key(), m.fence()));
    }
  }

  private void handled(HandlerRunner.Result res) {
    f.beating = false;
    if (cancelled) {
      return;
    }
    Message<Object> m = Objects.requireNonNull(message);
    if (res.yielded() || res.failed()) {
      verdict(flow.handled(f, m.key(), m.fence(), res));
      return;
    }
    Object completion = flow.completion(f, m.key(), m.fence(), res);
    if (completion instanceof Verdict.Ack a) {
      ack(a.outcome());
      return;
    }
    if (completion instanceof Verdict v) {
      settle(v);
      return;
    }
    outcome = flow.processed(f, m.key(), m.fence(), res);
    next(
        COMPLETE,
        Objects.requireNonNull(flow.store)
            .complete(Objects.requireNonNull(f.lease), (Completion) completion));
  }

  private void ack(Outcome<Object> o) {
    outcome = o;
    f.settling = o;
    next(ACK, f.delivery.ack());
  }

  private void verdict(Mono<Verdict> verdict) {
    next(VERDICT, verdict);
  }

  private void settle(Verdict v) {
    next(SETTLE, run.settlement().settle(f, v));
  }

  private void finish(@Nullable Outcome<Object> o) {
    step = DONE;
    run.finished(f);
    if (o != null && !cancelled) {
      actual.onNext(o);
    }
    if (!cancelled) {
      actual.onComplete();
    }
  }

  @SuppressWarnings("unchecked")
  private static Outcome<Object> castOutcome(Object v) {
    return (Outcome<Object>) v;
  }

  @Override
  public void request(long n) {
    Operators.validate(n);
  }

  @Override
  public void cancel() {
    cancelled = true;
    f.onLost = null;
    int s = step;
    Subscription up = upstream;
    if (up != null) {
      up.cancel();
    }
    if (s == HANDLE && permitted && STEP.compareAndSet(this, HANDLE, DONE)) {
      flow.runner.unpermit();
    }
    run.finished(f);
  }
}
