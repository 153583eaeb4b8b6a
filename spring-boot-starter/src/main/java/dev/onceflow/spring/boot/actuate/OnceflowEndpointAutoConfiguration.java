package dev.onceflow.spring.boot.actuate;

import dev.onceflow.spring.boot.OnceflowAutoConfiguration;
import dev.onceflow.spring.boot.internal.PipelineRegistry;
import dev.onceflow.spring.boot.internal.StoreFactory;
import dev.onceflow.store.IdempotencyStore;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * The {@code onceflow} Actuator endpoint ({@code /actuator/onceflow}), when it is available (expose
 * it with {@code management.endpoints.web.exposure.include=onceflow}). Micrometer meters are bound
 * by {@link OnceflowAutoConfiguration}.
 */
@AutoConfiguration(after = OnceflowAutoConfiguration.class)
@ConditionalOnClass({Endpoint.class, ConditionalOnAvailableEndpoint.class})
@ConditionalOnBean(PipelineRegistry.class)
@ConditionalOnAvailableEndpoint(OnceflowEndpoint.class)
public class OnceflowEndpointAutoConfiguration {

  @Bean
  @ConditionalOnMissingBean
  OnceflowEndpoint onceflowEndpoint(PipelineRegistry pipelines, IdempotencyStore store) {
    return new OnceflowEndpoint(pipelines, StoreFactory.describe(store));
  }
}
