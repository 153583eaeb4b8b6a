/**
 * The Redis {@link dev.onceflow.store.IdempotencyStore}: {@link
 * dev.onceflow.redis.RedisIdempotencyStore}, configured by {@link
 * dev.onceflow.redis.RedisStoreOptions}. Standalone, Sentinel and Cluster; TLS and ACL users.
 */
@NullMarked
package dev.onceflow.redis;

import org.jspecify.annotations.NullMarked;
