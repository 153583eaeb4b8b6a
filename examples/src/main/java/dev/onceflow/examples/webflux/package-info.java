/** A Spring WebFlux service (no Spring Boot) that runs an onceflow pipeline in its lifecycle. */
@NullMarked
package dev.onceflow.examples.webflux;

import org.jspecify.annotations.NullMarked;
