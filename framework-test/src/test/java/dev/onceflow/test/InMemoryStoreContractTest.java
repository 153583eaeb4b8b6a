package dev.onceflow.test;

import dev.onceflow.memory.InMemoryIdempotencyStore;
import dev.onceflow.store.IdempotencyStore;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** The store contract against the in-memory reference store. */
class InMemoryStoreContractTest extends IdempotencyStoreContract {

  private static final InMemoryIdempotencyStore STORE = InMemoryIdempotencyStore.create();

  @Override
  protected IdempotencyStore store() {
    return STORE;
  }

  @Override
  protected Map<String, String> hash(String namespace, String key) {
    return STORE.data().hash(namespace, key);
  }

  @Override
  protected @Nullable String value(String namespace, String key) {
    return STORE.data().get(namespace, key);
  }

  @Override
  protected Set<String> members(String namespace, String key) {
    return STORE.data().members(namespace, key);
  }

  @Override
  protected List<Map<String, String>> stream(String namespace, String key) {
    return STORE.data().stream(namespace, key);
  }
}
