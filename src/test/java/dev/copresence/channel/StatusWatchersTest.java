package dev.copresence.channel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.junit.jupiter.api.Test;

import dev.copresence.engine.UserStatus;
import dev.copresence.flow.InboundQueue;
import dev.copresence.flow.OutboundQueue;
import dev.copresence.flow.RateLimiter;
import dev.copresence.flow.TakeAllSink;

/**
 * What a watcher is told while its {@code watch} is answered: changes of the watched users can arrive
 * before the answer, and some of them are already in it (on Redis, the answer and the changes come
 * over different connections).
 */
class StatusWatchersTest {
    private final StatusWatchers watchers = new StatusWatchers();
    private final List<String> written = new CopyOnWriteArrayList<>();
    private final Session session = new Session("s1", null,
            new OutboundQueue(new TakeAllSink(frame -> written.add(frame.text())), OutboundQueue.Listener.NONE, 1 << 20, 1000),
            (code, reason) -> { }, new RateLimiter(100, 100), new InboundQueue(InboundQueue.Reader.NONE, 16, 100));

    private static String status(String user, boolean online, Long lastSeen) {
        return "{\"type\":\"status\",\"user\":\"" + user + "\",\"online\":" + online
                + (lastSeen == null ? "" : ",\"lastSeen\":" + lastSeen) + "}";
    }

    @Test
    void aChangeTheAnswerAlreadyHoldsIsNotSentAfterItAsAStaleStatus() {
        watchers.watch(session, List.of("ada"));
        // ada came online (after going offline at 5), then went offline at 10; both changes reach
        // this node while the watch is being read, and the read already saw her offline at 10
        watchers.onStatus(new UserStatus("ada", true, 5L));
        watchers.onStatus(new UserStatus("ada", false, 10L));
        watchers.answerStatus(session, List.of(new UserStatus("ada", false, 10L)));

        assertEquals(List.of(status("ada", false, 10L)), written);

        watchers.onStatus(new UserStatus("ada", true, 10L));
        assertEquals(List.of(status("ada", false, 10L), status("ada", true, 10L)), written);
    }

    @Test
    void changesThatCameAfterTheAnswerFollowItInOrder() {
        watchers.watch(session, List.of("ada", "bob"));
        watchers.onStatus(new UserStatus("ada", true, 10L));
        watchers.onStatus(new UserStatus("bob", true, null));
        watchers.onStatus(new UserStatus("ada", false, 11L));
        watchers.answerStatus(session, List.of(new UserStatus("ada", false, 10L), new UserStatus("bob", false, null)));

        assertEquals(List.of(status("ada", false, 10L), status("bob", false, null),
                status("ada", true, 10L), status("bob", true, null), status("ada", false, 11L)), written);
    }

    @Test
    void aWatchThatFailsStillReleasesTheChangesOfUsersWatchedBefore() {
        watchers.watch(session, List.of("ada"));
        watchers.answerStatus(session, List.of(new UserStatus("ada", false, 10L)));
        written.clear();

        watchers.watch(session, List.of("bob"));
        watchers.onStatus(new UserStatus("ada", true, 10L));
        watchers.onStatus(new UserStatus("bob", true, null));
        watchers.abandonWatch(session, List.of("bob"));

        assertEquals(List.of(status("ada", true, 10L)), written);
        watchers.onStatus(new UserStatus("bob", false, 3L));
        assertEquals(List.of(status("ada", true, 10L)), written);
    }

    @Test
    void aFailedWatchOfAUserWatchedBeforeLeavesThatWatchAsItWas() {
        watchers.watch(session, List.of("ada"));
        watchers.answerStatus(session, List.of(new UserStatus("ada", false, 10L)));
        written.clear();

        // watch [ada, bob] fails: only bob, which it added, stops being watched
        watchers.watch(session, List.of("ada", "bob"));
        watchers.onStatus(new UserStatus("ada", true, 10L));
        watchers.abandonWatch(session, List.of("bob"));
        watchers.onStatus(new UserStatus("ada", false, 11L));

        assertEquals(List.of(status("ada", true, 10L), status("ada", false, 11L)), written);
    }

    @Test
    void anObserverIsNotShownAStaleStatusEither() {
        List<UserStatus> seen = new CopyOnWriteArrayList<>();
        StatusObserver observer = new StatusObserver(List.of("ada"), seen::add);
        watchers.observeStatus(observer);
        watchers.onStatus(new UserStatus("ada", true, 5L));
        watchers.onStatus(new UserStatus("ada", false, 10L));
        watchers.onStatus(new UserStatus("ada", true, 10L));
        observer.activate(List.of(new UserStatus("ada", false, 10L)));

        assertEquals(List.of(new UserStatus("ada", false, 10L), new UserStatus("ada", true, 10L)), seen);
    }
}
