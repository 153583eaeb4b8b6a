package dev.onceflow.engine;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * The deliveries of one run that hold a lease, by key: a delivery whose key answers IN_PROGRESS
 * because another delivery of this same run holds it waits for that one to finish, then asks again,
 * instead of polling the store after a backoff.
 */
final class LocalHolders {

  /**
   * The first look again after an IN_PROGRESS answer when no holder of the key is found here: the
   * holder may have finished, or not yet taken its grant, between the store's answer and the look.
   * The full backoff is for holders elsewhere.
   */
  static final Duration QUICK_RECHECK = Duration.ofMillis(5);

  private final Map<String, InFlight> holders = new ConcurrentHashMap<>();
  private final Duration backoff;
  private final Scheduler scheduler;

  LocalHolders(Duration backoff, Scheduler scheduler) {
    this.backoff = backoff;
    this.scheduler = scheduler;
  }

  void held(String key, InFlight f) {
    holders.put(key, f);
  }

  void released(String key, InFlight f) {
    holders.remove(key, f);
  }

  /** Whether the first look again is quicker than the backoff (and so comes on top of it). */
  boolean quickFirstLook() {
    return backoff.compareTo(QUICK_RECHECK) > 0;
  }

  /**
   * Waits for this run's holder of {@code key} to finish, or the in-progress backoff ({@link
   * #QUICK_RECHECK} for the {@code first} look).
   */
  Mono<Long> beforeAskingAgain(String key, boolean first) {
    InFlight holder = holders.get(key);
    if (holder != null) {
      return holder.overSignal().thenReturn(0L);
    }
    return Mono.delay(first && quickFirstLook() ? QUICK_RECHECK : backoff, scheduler);
  }
}
