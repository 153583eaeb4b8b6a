package dev.onceflow.kafka.internal;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Collection;
import java.util.Objects;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import reactor.kafka.receiver.ReceiverOptions;
import reactor.kafka.receiver.internals.ConsumerFactory;

/**
 * Creates reactor-kafka's consumer wrapped so that the session sees, on the consumer's own thread,
 * what every {@code poll} returned and every revocation <em>before</em> reactor-kafka handles it.
 *
 * <p>Why: reactor-kafka buffers polled records between its poll thread and the subscriber, and
 * commits acknowledged offsets in its revocation callback. Counting polled records per partition
 * lets the session recognize records polled before a revocation that reach it afterwards (they are
 * dropped: the partition's next owner fetches them again), and revoking first guarantees that no
 * acknowledgement of a revoked partition slips in after reactor-kafka's last commit.
 */
final class HookedConsumerFactory extends ConsumerFactory {

  /** Callbacks, run on the consumer's thread. */
  interface Hooks {
    void polled(ConsumerRecords<?, ?> records);

    void revoked(Collection<TopicPartition> partitions);
  }

  private final Hooks hooks;

  HookedConsumerFactory(Hooks hooks) {
    this.hooks = Objects.requireNonNull(hooks, "hooks");
  }

  @Override
  @SuppressWarnings("unchecked")
  public <K, V> Consumer<K, V> createConsumer(ReceiverOptions<K, V> config) {
    Consumer<K, V> real = super.createConsumer(config);
    return (Consumer<K, V>)
        Proxy.newProxyInstance(
            Consumer.class.getClassLoader(),
            new Class<?>[] {Consumer.class},
            (proxy, method, args) -> {
              Object[] actualArgs = args;
              if ("subscribe".equals(method.getName())
                  && args != null
                  && args.length == 2
                  && args[1] instanceof ConsumerRebalanceListener listener) {
                actualArgs = new Object[] {args[0], new RevokeFirst(listener, hooks)};
              }
              Object result;
              try {
                result = method.invoke(real, actualArgs);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
              if ("poll".equals(method.getName())
                  && result instanceof ConsumerRecords<?, ?> records
                  && !records.isEmpty()) {
                hooks.polled(records);
              }
              return result;
            });
  }

  /** Runs the session's revocation before reactor-kafka's listener (which commits). */
  private record RevokeFirst(ConsumerRebalanceListener delegate, Hooks hooks)
      implements ConsumerRebalanceListener {

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
      if (!partitions.isEmpty()) {
        hooks.revoked(partitions);
      }
      delegate.onPartitionsRevoked(partitions);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
      delegate.onPartitionsAssigned(partitions);
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> partitions) {
      if (!partitions.isEmpty()) {
        hooks.revoked(partitions);
      }
      delegate.onPartitionsLost(partitions);
    }
  }
}
