package dev.onceflow.test;

import dev.onceflow.core.Envelope;
import dev.onceflow.core.MessageSource;
import dev.onceflow.deadletter.DeadLetter;
import dev.onceflow.deadletter.DeadLetterSink;
import dev.onceflow.memory.InMemoryDeadLetters;
import dev.onceflow.memory.InMemorySource;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** The in-memory source passes the same conformance suite as the broker adapters. */
class InMemoryAdapterConformanceTest extends AdapterConformance {
  private final Map<String, InMemorySource> queues = new ConcurrentHashMap<>();
  private final Map<String, InMemoryDeadLetters> dlqs = new ConcurrentHashMap<>();
  private final AtomicInteger n = new AtomicInteger();

  @Override
  protected String newDestination() {
    String q = "q" + n.incrementAndGet();
    queues.put(q, InMemorySource.create(q));
    dlqs.put(q, InMemoryDeadLetters.create());
    return q;
  }

  @Override
  protected MessageSource source(String destination) {
    return queues.get(destination);
  }

  @Override
  protected void publish(String destination, Envelope message) {
    queues.get(destination).publish(message);
  }

  @Override
  protected DeadLetterSink deadLetterSink(String destination) {
    return dlqs.get(destination);
  }

  @Override
  protected List<Map<String, String>> readDeadLetters(String destination, int count) {
    return dlqs.get(destination).deadLetters().stream().map(DeadLetter::headers).toList();
  }

  @Override
  protected long remaining(String destination) {
    InMemorySource s = queues.get(destination);
    return s.ready() + s.unacked() + s.delayed();
  }
}
