package dev.onceflow.sqs;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Gives test classes the one {@link ElasticMq} of the test run: started by the first class that
 * needs it, closed by JUnit when the run ends (it is an {@code AutoCloseable} in the root store).
 * Starting ElasticMQ (Pekko, Scala) costs 2 s on an idle machine and over 10 s on a busy one, so
 * classes share it; each test works on queues of its own, so they do not see each other.
 */
final class ElasticMqExtension implements BeforeAllCallback {

  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(ElasticMqExtension.class);

  private static volatile ElasticMq shared;

  @Override
  public void beforeAll(ExtensionContext context) {
    shared =
        context
            .getRoot()
            .getStore(NAMESPACE)
            .getOrComputeIfAbsent(ElasticMq.class, k -> ElasticMq.start(), ElasticMq.class);
  }

  /** The running ElasticMQ; valid from {@code @BeforeAll} on. */
  static ElasticMq mq() {
    return shared;
  }
}
