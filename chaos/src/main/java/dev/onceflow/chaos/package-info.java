/**
 * The chaos suite's history checker: reads the event logs the consumer CLI writes ({@code
 * --event-log}), the broker's leftovers and the effect counts, and checks onceflow's rules (ack
 * after record, one completion per key, no stale fence completing, nothing lost, exactly-once
 * transactional effects, bounded plain re-runs) and the recovery time after each fault.
 */
@NullMarked
package dev.onceflow.chaos;

import org.jspecify.annotations.NullMarked;
