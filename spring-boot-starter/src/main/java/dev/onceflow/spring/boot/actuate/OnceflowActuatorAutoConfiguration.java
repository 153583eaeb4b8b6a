package dev.onceflow.spring.boot.actuate;

import dev.onceflow.spring.boot.OnceflowAutoConfiguration;
import dev.onceflow.spring.boot.internal.ManagedPipeline;
import dev.onceflow.spring.boot.internal.PipelineRegistry;
import dev.onceflow.spring.boot.internal.StoreFactory;
import dev.onceflow.store.IdempotencyStore;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Actuator support for the pipelines: the health contributor {@code onceflow} (one indicator per
 * pipeline) and the {@code onceflow} endpoint. Micrometer meters are bound by {@link
 * OnceflowAutoConfiguration}.
 */
@AutoConfiguration(after = OnceflowAutoConfiguration.class)
@ConditionalOnBean(PipelineRegistry.class)
public class OnceflowActuatorAutoConfiguration {

  /** {@code /actuator/health/onceflow/<pipeline>}. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(HealthIndicator.class)
  @ConditionalOnEnabledHealthIndicator("onceflow")
  static class Health {
    @Bean
    @ConditionalOnMissingBean(name = "onceflowHealthContributor")
    CompositeHealthContributor onceflowHealthContributor(PipelineRegistry pipelines) {
      Map<String, HealthIndicator> indicators = new LinkedHashMap<>();
      for (ManagedPipeline m : pipelines.managed().values()) {
        indicators.put(
            m.name(), new PipelineHealthIndicator(m.pipeline(), m.properties().isAutoStartup()));
      }
      return CompositeHealthContributor.fromMap(indicators);
    }
  }

  /** {@code /actuator/onceflow}. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "org.springframework.boot.actuate.endpoint.annotation.Endpoint")
  @ConditionalOnAvailableEndpoint(OnceflowEndpoint.class)
  static class Endpoint {
    @Bean
    @ConditionalOnMissingBean
    OnceflowEndpoint onceflowEndpoint(PipelineRegistry pipelines, IdempotencyStore store) {
      return new OnceflowEndpoint(pipelines, StoreFactory.describe(store));
    }
  }
}
