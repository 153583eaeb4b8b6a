package dev.onceflow.engine;

import java.util.concurrent.ConcurrentHashMap;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * Runs the work of one key one at a time, in the order the work was subscribed; work of different
 * keys runs concurrently. Memory holds only keys with work in flight.
 */
final class KeySerializer {
  private final ConcurrentHashMap<String, Sinks.Empty<Void>> tails = new ConcurrentHashMap<>();

  <V> Mono<V> serialize(String key, Mono<V> work) {
    return Mono.defer(
        () -> {
          Sinks.Empty<Void> mine = Sinks.empty();
          Sinks.Empty<Void> previous = tails.put(key, mine);
          Mono<V> run = previous == null ? work : previous.asMono().then(work);
          return run.doFinally(
              s -> {
                tails.remove(key, mine);
                mine.tryEmitEmpty();
              });
        });
  }

  int keysInFlight() {
    return tails.size();
  }
}
