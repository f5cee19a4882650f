package dev.copresence.security;

import jakarta.enterprise.context.ApplicationScoped;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.trace.ReadWriteSpan;
import io.opentelemetry.sdk.trace.ReadableSpan;
import io.opentelemetry.sdk.trace.SpanProcessor;

/**
 * Keeps tokens out of traces: browsers must put their token in the {@code access_token} query
 * parameter of a WebSocket upgrade, and HTTP spans record the query. Its value is replaced before
 * any exporter sees the span.
 */
@ApplicationScoped
public class TokenRedaction implements SpanProcessor {
    private static final AttributeKey<String> URL_QUERY = AttributeKey.stringKey("url.query");
    private static final AttributeKey<String> URL_FULL = AttributeKey.stringKey("url.full");
    private static final AttributeKey<String> HTTP_TARGET = AttributeKey.stringKey("http.target");

    @Override
    public void onStart(Context parentContext, ReadWriteSpan span) {
        redact(span, URL_QUERY);
        redact(span, URL_FULL);
        redact(span, HTTP_TARGET);
    }

    private static void redact(ReadWriteSpan span, AttributeKey<String> key) {
        String value = span.getAttribute(key);
        if (value != null && value.contains("access_token=")) {
            span.setAttribute(key, redact(value));
        }
    }

    static String redact(String value) {
        return value.replaceAll("access_token=[^&#]*", "access_token=REDACTED");
    }

    @Override
    public boolean isStartRequired() {
        return true;
    }

    @Override
    public void onEnd(ReadableSpan span) {
    }

    @Override
    public boolean isEndRequired() {
        return false;
    }
}
