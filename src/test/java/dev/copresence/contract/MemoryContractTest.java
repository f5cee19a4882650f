package dev.copresence.contract;

import io.quarkus.test.junit.QuarkusTest;

/** Wire protocol v1 on the in-memory registry (the default without quarkus.redis.hosts). */
@QuarkusTest
class MemoryContractTest extends ErrorContractTests {
}
