package dev.onceflow.memory;

import dev.onceflow.deadletter.DeadLetter;
import dev.onceflow.deadletter.DeadLetterSink;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/** A {@link DeadLetterSink} that keeps dead letters in memory. Thread-safe. */
public final class InMemoryDeadLetters implements DeadLetterSink {

  private final List<DeadLetter> deadLetters = new CopyOnWriteArrayList<>();
  private volatile @Nullable RuntimeException failure;

  public static InMemoryDeadLetters create() {
    return new InMemoryDeadLetters();
  }

  @Override
  public Mono<Void> publish(DeadLetter deadLetter) {
    Objects.requireNonNull(deadLetter, "deadLetter");
    return Mono.fromRunnable(
        () -> {
          RuntimeException f = failure;
          if (f != null) {
            throw f;
          }
          deadLetters.add(deadLetter);
        });
  }

  /** The dead letters accepted so far, oldest first. */
  public List<DeadLetter> deadLetters() {
    return List.copyOf(deadLetters);
  }

  /** Makes every publish fail with {@code failure} until {@link #recover()}. */
  public void failWith(RuntimeException failure) {
    this.failure = Objects.requireNonNull(failure, "failure");
  }

  public void recover() {
    this.failure = null;
  }
}
