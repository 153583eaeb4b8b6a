/**
 * The idempotency store SPI: leases with fencing, recorded outcomes and transactional effects.
 * {@link dev.onceflow.store.IdempotencyStore} states the contract every store keeps.
 */
@NullMarked
package dev.onceflow.store;

import org.jspecify.annotations.NullMarked;
