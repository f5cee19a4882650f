package dev.copresence.config;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * Every setting of the service, under {@code copresence.*}; defaults are the contract's
 * ("Configuration" in the wire protocol). Each can be set as an environment variable
 * ({@code copresence.presence.ttl} → {@code COPRESENCE_PRESENCE_TTL}).
 */
@ConfigMapping(prefix = "copresence")
public interface CopresenceConfig {

    Auth auth();

    /** Comma-separated {@code Origin} values allowed for browser requests; {@code *} allows any. */
    @WithDefault("*")
    List<String> allowedOrigins();

    Presence presence();

    Typing typing();

    /** WebSocket ping period; pings go out on the once-a-second liveness tick, so it is rounded to whole seconds. */
    @WithDefault("15s")
    Duration pingInterval();

    /** Close (4408) after this long with nothing received from the client. */
    @WithDefault("45s")
    Duration idleTimeout();

    History history();

    Limits limits();

    Outbound outbound();

    Sse sse();

    /** This node's id in the cluster; a random one when unset (pods get a new one per start). */
    Optional<String> nodeId();

    interface Auth {
        /** {@code none}: clients name themselves; {@code jwt}: a signed token is required. */
        @WithDefault("none")
        AuthMode mode();

        /** Key of the REST server API ({@code Authorization: Bearer <key>}); required in jwt mode. */
        Optional<String> apiKey();
    }

    enum AuthMode {
        none,
        jwt
    }

    interface Presence {
        /** How long a member outlives its node's last renewal. */
        @WithDefault("30s")
        Duration ttl();

        /** How often a node renews its members, and checks that it still hears its pub/sub connection. */
        @WithDefault("10s")
        Duration renewInterval();
    }

    interface Typing {
        /** How long {@code typing: true} lasts without being sent again. */
        @WithDefault("5s")
        Duration ttl();
    }

    interface History {
        /** Durable events kept per document for resume. */
        @WithDefault("1000")
        int size();

        /** How long a document's history outlives its last event and its last member. */
        @WithDefault("1h")
        Duration ttl();

        /**
         * Characters of history the in-memory registry keeps across all documents; past it the oldest
         * events of any document go first. On Redis the history is Redis's memory (its maxmemory).
         */
        @WithDefault("67108864")
        long memory();
    }

    interface Limits {
        /** Largest client message in bytes; a larger one closes the connection with 1009. */
        @WithDefault("65536")
        int messageSize();

        /** Largest member state in bytes (UTF-8 JSON after the merge). */
        @WithDefault("4096")
        int stateSize();

        @WithDefault("64")
        int docsPerConnection();

        @WithDefault("10000")
        int membersPerDoc();

        /** Messages per second per connection (token bucket refill). */
        @WithDefault("100")
        int rate();

        /** Token bucket size. */
        @WithDefault("200")
        int burst();

        /** Bad messages in a row before the connection is closed with 1008. */
        @WithDefault("20")
        int badMessages();

        /** Bytes queued for one connection before it counts as a slow consumer (close 1013). */
        @WithDefault("1048576")
        int sendBuffer();

        /**
         * Messages of one connection waiting to be processed before its socket stops being read. What
         * was already read still waits, up to four times this or {@code burst}, whichever is more;
         * past that a message is refused with {@code rate_limited}.
         */
        @WithDefault("32")
        int inboundPending();
    }

    interface Outbound {
        /** Frames queued for one connection, whatever their size, before it counts as slow. */
        @WithDefault("4096")
        int maxFrames();

        /**
         * Bytes a connection's socket may hold unsent before frames wait in the outbound queue, where
         * ephemeral ones can still be replaced by newer ones.
         */
        @WithDefault("65536")
        int socketBuffer();

        /**
         * How long a WebSocket's queue gathers ephemeral frames (cursor and state updates, typing)
         * before writing them, so that a storm of them leaves in fewer, larger writes: less CPU per
         * delivery for that much more latency. Any other frame is written at once, with what has
         * gathered. 0 (the default): no wait.
         */
        @WithDefault("0ms")
        Duration ephemeralWriteDelay();

        /**
         * How long a closing WebSocket may stay open before the node resets its TCP connection: a
         * close frame waits behind what the client has not read, and a client that reads nothing would
         * otherwise keep its socket, session and presence. At least a second, at most a day; by default as
         * long as Vert.x's own closing timeout.
         */
        @WithDefault("10s")
        Duration closeDeadline();
    }

    interface Sse {
        /** The longest an event stream goes without a byte: a comment line fills a silence, so proxies keep it open. */
        @WithDefault("15s")
        Duration heartbeat();

        /** Events queued for one stream whose reader falls behind; past it the stream ends (it resumes). */
        @WithDefault("1024")
        int buffer();
    }
}
