package dev.copresence.web;

import io.quarkus.test.junit.QuarkusTest;

/** SSE and long polling on the in-memory registry. */
@QuarkusTest
class MemoryWebTransportTest extends WebTransportTests {
}
