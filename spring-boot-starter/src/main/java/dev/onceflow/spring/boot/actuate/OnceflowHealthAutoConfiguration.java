package dev.onceflow.spring.boot.actuate;

import dev.onceflow.spring.boot.OnceflowAutoConfiguration;
import dev.onceflow.spring.boot.internal.ManagedPipeline;
import dev.onceflow.spring.boot.internal.PipelineRegistry;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;

/**
 * The health contributor {@code onceflow}: one {@link PipelineHealthIndicator} per pipeline, at
 * {@code /actuator/health/onceflow/<pipeline>}. Off with {@code
 * management.health.onceflow.enabled=false}.
 */
@AutoConfiguration(after = OnceflowAutoConfiguration.class)
@ConditionalOnClass({HealthIndicator.class, ConditionalOnEnabledHealthIndicator.class})
@ConditionalOnBean(PipelineRegistry.class)
@ConditionalOnEnabledHealthIndicator("onceflow")
public class OnceflowHealthAutoConfiguration {

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
