/**
 * Actuator support: a health indicator per pipeline (under {@code onceflow} in {@code
 * /actuator/health}) and the {@code onceflow} endpoint with each pipeline's state, ledger and
 * recent dead-letter counts.
 */
@NullMarked
package dev.onceflow.spring.boot.actuate;

import org.jspecify.annotations.NullMarked;
