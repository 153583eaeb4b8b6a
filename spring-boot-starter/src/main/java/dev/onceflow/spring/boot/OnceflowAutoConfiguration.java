package dev.onceflow.spring.boot;

import dev.onceflow.spring.boot.internal.BrokerBinding;
import dev.onceflow.spring.boot.internal.KafkaBinding;
import dev.onceflow.spring.boot.internal.OnceflowLifecycle;
import dev.onceflow.spring.boot.internal.PipelineAssembler;
import dev.onceflow.spring.boot.internal.PipelineRegistry;
import dev.onceflow.spring.boot.internal.RabbitBinding;
import dev.onceflow.spring.boot.internal.SqsBinding;
import dev.onceflow.spring.boot.internal.StoreFactory;
import dev.onceflow.store.IdempotencyStore;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
import java.time.Clock;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsAsyncClient;
import software.amazon.awssdk.services.sqs.SqsAsyncClientBuilder;
import tools.jackson.databind.json.JsonMapper;

/**
 * Auto-configuration of onceflow: the idempotency store ({@code onceflow.store.*}), the pipelines
 * of {@code onceflow.pipelines.*} bound to their {@link PipelineHandler} beans, and their
 * lifecycle. Every bean backs off when the application declares its own of the same type.
 */
@AutoConfiguration(
    afterName = {
      "org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration",
      "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration"
    })
@EnableConfigurationProperties(OnceflowProperties.class)
public class OnceflowAutoConfiguration {

  /**
   * The idempotency store: Redis when {@code onceflow.store.redis.uri}, {@code .cluster} or {@code
   * .sentinel.*} is set, otherwise the in-memory store (per process, with a warning).
   */
  @Bean
  @ConditionalOnMissingBean(IdempotencyStore.class)
  IdempotencyStore onceflowIdempotencyStore(OnceflowProperties properties) {
    return StoreFactory.create(properties.getStore().getRedis());
  }

  /** The configured pipelines. */
  @Bean
  @ConditionalOnMissingBean(OnceflowPipelines.class)
  PipelineRegistry onceflowPipelines(
      OnceflowProperties properties,
      IdempotencyStore store,
      ConfigurableListableBeanFactory beanFactory,
      ObjectProvider<BrokerBinding> bindings,
      ObjectProvider<JsonMapper> json,
      ObjectProvider<PipelineCustomizer> customizers) {
    return new PipelineAssembler(
            properties,
            store,
            StoreFactory.describe(store),
            beanFactory,
            bindings.orderedStream().toList(),
            json.getIfAvailable(() -> JsonMapper.builder().build()),
            customizers.orderedStream().toList(),
            Clock.systemUTC())
        .assemble();
  }

  /** Starts the pipelines with the context and stops them in the graceful-shutdown phase. */
  @Bean
  @ConditionalOnBean(PipelineRegistry.class)
  OnceflowLifecycle onceflowLifecycle(PipelineRegistry pipelines, OnceflowProperties properties) {
    return new OnceflowLifecycle(pipelines, properties.getShutdownTimeout());
  }

  /** Kafka pipelines, when {@code onceflow-kafka} is on the classpath. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "dev.onceflow.kafka.KafkaSource")
  static class Kafka {
    @Bean
    BrokerBinding onceflowKafkaBinding(OnceflowProperties properties) {
      return new KafkaBinding(properties.getKafka());
    }
  }

  /** RabbitMQ pipelines, when {@code onceflow-rabbitmq} is on the classpath. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "dev.onceflow.rabbitmq.RabbitSource")
  static class Rabbit {
    @Bean
    BrokerBinding onceflowRabbitBinding(OnceflowProperties properties) {
      return new RabbitBinding(properties.getRabbitmq());
    }
  }

  /**
   * SQS pipelines, when {@code onceflow-sqs} is on the classpath: over the application's {@code
   * SqsAsyncClient} bean, or one built from {@code onceflow.sqs.region} and {@code .endpoint} with
   * the default credentials chain (created only when a pipeline needs it).
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "dev.onceflow.sqs.SqsSource")
  static class Sqs {
    @Bean
    BrokerBinding onceflowSqsBinding(
        OnceflowProperties properties, ObjectProvider<SqsAsyncClient> client) {
      return new SqsBinding(
          properties.getSqs(), client::getIfAvailable, () -> client(properties.getSqs()));
    }

    private static SqsAsyncClient client(OnceflowProperties.Sqs sqs) {
      SqsAsyncClientBuilder b = SqsAsyncClient.builder();
      if (sqs.getRegion() != null) {
        b.region(Region.of(sqs.getRegion()));
      }
      if (sqs.getEndpoint() != null) {
        b.endpointOverride(URI.create(sqs.getEndpoint()));
      }
      return b.build();
    }
  }

  /** Micrometer meters of every pipeline on the application's {@code MeterRegistry}. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(MeterRegistry.class)
  static class Metrics {
    @Bean
    @Order(Ordered.HIGHEST_PRECEDENCE)
    PipelineCustomizer onceflowMetricsCustomizer(ObjectProvider<MeterRegistry> registry) {
      return (name, builder) -> {
        MeterRegistry r = registry.getIfUnique();
        if (r != null) {
          builder.metrics(r);
        }
      };
    }
  }
}
