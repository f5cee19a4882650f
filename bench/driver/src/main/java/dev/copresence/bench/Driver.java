package dev.copresence.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.zip.DataFormatException;

import org.HdrHistogram.Histogram;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * The one load driver of the benchmarks, used against every system so that the comparison is fair.
 *
 * <p>{@code run}: opens this process's share of the connections, speaks the Copresence protocol v1
 * ({@code copresence}), the same JSON shapes over plain WebSocket ({@code raw}: the ws and Vert.x
 * peers) or Socket.IO's WebSocket framing ({@code socketio}), and plays one scenario. Several
 * processes meet at a file barrier ({@code --barrier DIR}); process 0 is the leader (publishers,
 * watchers, server CPU samples). Each process writes its own JSON with its histograms encoded.
 *
 * <p>With {@code --observers}, the fanout subscribers are observers instead of members: Copresence's
 * read-only Server-Sent Events stream ({@code GET /sse/documents/fan}), or the peers' {@code observe}
 * message (a silent room join, answered with an {@code ack}). Joining N members costs every system
 * N²/2 presence events; observing costs N, which is what lets one document reach 5,000 subscribers.
 *
 * <p>With {@code --browser-headers N}, each WebSocket handshake also carries what a desktop browser
 * sends (user agent, languages, origin, caches) and a cookie of N bytes (none for 0): for measuring
 * what a connection's handshake costs it afterwards. The scenarios leave it off.
 *
 * <p>{@code merge}: adds up the JSON of every process into one result. {@code median}: folds several runs
 * of one system into one result ({@link Repeats}).
 *
 * <p>Latency is publish-to-receive: the sender puts {@link System#nanoTime()} in the message
 * (CLOCK_MONOTONIC, shared by every process on the machine) and the receiver subtracts it.
 * Everything runs on one event loop per process, so nothing here needs a lock.
 */
public final class Driver {

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            System.err.println("usage: Driver run|merge|median|machine-check --option value ...");
            System.exit(2);
        }
        Map<String, String> opts = parse(args);
        if (args[0].equals("merge")) {
            Merge.merge(opts);
            return;
        }
        if (args[0].equals("median")) {
            Repeats.median(opts);
            return;
        }
        if (args[0].equals("machine-check")) {
            MachineCheck.print(opts);
            return;
        }
        new Driver(opts).run();
    }

    static Map<String, String> parse(String[] args) {
        Map<String, String> opts = new HashMap<>();
        for (int i = 1; i < args.length; i++) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument " + args[i]);
            }
            String key = args[i].substring(2);
            if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
                opts.put(key, args[++i]);
            } else {
                opts.put(key, "true");
            }
        }
        return opts;
    }

    // ---- options --------------------------------------------------------------------------------

    enum Proto { COPRESENCE, RAW, SOCKETIO }

    enum Role { SUB, PUB, WATCH, CHURN, MEMBER }

    final String scenario;
    final Proto proto;
    final List<String> urls;
    final int conns;
    final int proc;
    final int procs;
    final boolean leader;
    final Path barrier;
    final Path out;
    final double[] rates;
    final double stepSeconds;
    final double drainSeconds;
    final int publishers;
    final int watchersPerDoc;
    final int docs;
    final int totalConns;
    final int concurrency;
    final int[] serverPids;
    final long holdSeconds;
    final int payloadBytes;
    final long goDelayMs;
    /** The go file is written by the orchestrator, not by process 0 (two systems measured at once start together). */
    final boolean goFromOutside;
    /** Where in the publishing period a fanout's broadcasts fall, 0 <= phase < 1 (two systems at once take turns). */
    final double phase;
    final boolean observers;
    /** Handshake headers a browser would add (a user agent, languages, an origin, a cookie of this many bytes); -1: none. */
    final int browserCookieBytes;

    Driver(Map<String, String> o) {
        scenario = o.getOrDefault("scenario", "fanout");
        proto = Proto.valueOf(o.getOrDefault("proto", "copresence").toUpperCase(Locale.ROOT));
        urls = List.of(o.getOrDefault("urls", "ws://127.0.0.1:8080/ws").split(","));
        conns = Integer.parseInt(o.getOrDefault("conns", "100"));
        proc = Integer.parseInt(o.getOrDefault("proc", "0"));
        procs = Integer.parseInt(o.getOrDefault("procs", "1"));
        leader = proc == 0;
        barrier = Path.of(o.getOrDefault("barrier", "/tmp/bench-barrier"));
        out = Path.of(o.getOrDefault("out", "driver-" + proc + ".json"));
        String[] r = o.getOrDefault("rates", "10").split(",");
        rates = new double[r.length];
        for (int i = 0; i < r.length; i++) {
            rates[i] = Double.parseDouble(r[i]);
        }
        stepSeconds = Double.parseDouble(o.getOrDefault("step-seconds", "10"));
        drainSeconds = Double.parseDouble(o.getOrDefault("drain-seconds", "3"));
        publishers = Integer.parseInt(o.getOrDefault("publishers", "1"));
        watchersPerDoc = Integer.parseInt(o.getOrDefault("watchers", "2"));
        docs = Integer.parseInt(o.getOrDefault("docs", "10"));
        totalConns = Integer.parseInt(o.getOrDefault("total-conns", String.valueOf(conns * procs)));
        concurrency = Integer.parseInt(o.getOrDefault("concurrency", "128"));
        String pids = o.getOrDefault("server-pids", "");
        serverPids = pids.isBlank() ? new int[0]
                : java.util.Arrays.stream(pids.split(",")).mapToInt(Integer::parseInt).toArray();
        holdSeconds = Long.parseLong(o.getOrDefault("hold-seconds", "600"));
        payloadBytes = Integer.parseInt(o.getOrDefault("payload", "0"));
        goDelayMs = Long.parseLong(o.getOrDefault("go-delay-ms", "1000"));
        goFromOutside = Boolean.parseBoolean(o.getOrDefault("go-from-outside", "false"));
        phase = Double.parseDouble(o.getOrDefault("phase", "0"));
        if (phase < 0 || phase >= 1) {
            throw new IllegalArgumentException("--phase must be in [0, 1)");
        }
        observers = Boolean.parseBoolean(o.getOrDefault("observers", "false"));
        browserCookieBytes = Integer.parseInt(o.getOrDefault("browser-headers", "-1"));
        if (observers && !scenario.equals("fanout")) {
            throw new IllegalArgumentException("--observers is for the fanout scenario only");
        }
    }

    /** What a desktop Chrome sends with a WebSocket handshake besides the handshake's own headers. */
    static void browserHeaders(WebSocketConnectOptions o, String origin, int cookieBytes) {
        o.addHeader("Pragma", "no-cache").addHeader("Cache-Control", "no-cache")
                .addHeader("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                        + "Chrome/131.0.0.0 Safari/537.36")
                .addHeader("Origin", origin).addHeader("Accept-Encoding", "gzip, deflate, br, zstd")
                .addHeader("Accept-Language", "en-US,en;q=0.9,de;q=0.8");
        if (cookieBytes > 0) {
            o.addHeader("Cookie", "c=" + "s".repeat(Math.max(0, cookieBytes - 2))); // N bytes (2 at least)
        }
    }

    // ---- state ----------------------------------------------------------------------------------

    Vertx vertx;
    WebSocketClient client;
    HttpClient http; // Copresence observers: one SSE stream per connection
    final List<Conn> all = new ArrayList<>();
    int joinedCount;
    int observingCount;
    int expectedJoins;
    long connectStartNs;
    long connectEndNs;
    int connectFailures;
    /** WebSocket close codes (-1: none), and "sse-end" / "sse-error" for event streams that stopped. */
    final Map<String, Integer> closeCodes = new TreeMap<>();
    int unexpectedCloses;
    int errors;
    final Map<String, Integer> errorCodes = new TreeMap<>();
    boolean running; // the measured phase
    boolean stopping;
    long goEpochMs;
    long goNs;
    Step[] steps;
    final CountDownLatch finished = new CountDownLatch(1);

    static final class Step {
        final int k;
        final double rate;
        long published; // fanout: broadcasts sent; cursors: updates sent; churn: joins sent
        long received; // deliveries counted at receivers
        long ops; // churn: joins + leaves completed
        long cpuTicksStart = -1;
        long cpuTicksEnd = -1;
        long rssKbEnd;
        /**
         * The server's threads at the step's start and end (null: no server, or not measured): its event
         * loops', collector's and JIT compiler's CPU (the JIT's -1 where no server is a JVM) and switches.
         */
        ProcStat.Threads threadsStart;
        ProcStat.Threads threadsEnd;
        /** This driver process's own context switches, every thread's. */
        long driverSwitchesStart = -1;
        long driverSwitchesEnd = -1;
        /** This driver process's own CPU: a driver near a whole CPU measures itself, not the server. */
        long driverTicksStart = -1;
        long driverTicksEnd = -1;
        final Histogram hist = new Histogram(3_600_000_000_000L, 3);

        Step(int k, double rate) {
            this.k = k;
            this.rate = rate;
        }
    }

    final class Conn {
        final int index; // global index over every process
        final Role role;
        final String user;
        final String doc;
        final String url;
        final boolean observer; // subscribed without being a member (see --observers)
        WebSocket ws;
        HttpClientRequest sse; // Copresence observers, instead of ws
        boolean open;
        boolean joined;
        boolean joinPending;
        boolean observePending;
        boolean leavePending;
        long seq;
        long nextDueNs;
        int idCounter;

        Conn(int index, Role role, String user, String doc, String url) {
            this(index, role, user, doc, url, false);
        }

        Conn(int index, Role role, String user, String doc, String url, boolean observer) {
            this.index = index;
            this.role = role;
            this.user = user;
            this.doc = doc;
            this.url = url;
            this.observer = observer;
        }

        void send(String text) {
            if (open) {
                ws.writeTextMessage(text);
            }
        }

        void emit(String type, String body) {
            // body: the JSON fields after "type" without braces, e.g. "doc":"d","state":{}
            if (proto == Proto.SOCKETIO) {
                send("42[\"" + type + "\",{" + body + "}]");
            } else {
                send("{\"type\":\"" + type + "\"," + body + "}");
            }
        }

        void join(String state) {
            joinPending = true;
            emit("join", "\"doc\":\"" + doc + "\",\"state\":" + state);
        }

        void leave() {
            leavePending = true;
            emit("leave", "\"doc\":\"" + doc + "\",\"id\":" + (++idCounter));
        }

        /** The peers' silent room join; the id makes the ack say the socket is in the room. */
        void observe() {
            observePending = true;
            emit("observe", "\"doc\":\"" + doc + "\",\"id\":" + (++idCounter));
        }

        void close() {
            if (ws != null) {
                ws.close();
            } else if (sse != null) {
                sse.connection().close(); // one stream per HTTP/1.1 connection: this ends it
            }
        }
    }

    // ---- run ------------------------------------------------------------------------------------

    void run() throws Exception {
        vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1)
                .setBlockedThreadCheckInterval(60_000));
        client = vertx.createWebSocketClient(new WebSocketClientOptions()
                .setMaxConnections(Math.max(1, totalConns + publishers + 16)) // default is 50 per host
                .setConnectTimeout(30_000)
                .setMaxFrameSize(1 << 20)
                .setMaxMessageSize(1 << 22));
        if (observers && proto == Proto.COPRESENCE) {
            // an event stream holds its HTTP/1.1 connection for good: one connection per observer
            // (the default pool is 5 per host, and the rest would wait forever)
            http = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(30_000).setKeepAlive(true),
                    new PoolOptions().setHttp1MaxSize(Math.max(1, totalConns + 16)));
        }
        steps = new Step[rates.length];
        for (int i = 0; i < rates.length; i++) {
            steps[i] = new Step(i, rates[i]);
        }
        plan();
        vertx.runOnContext(v -> connectAll());
        finished.await();
        vertx.close().toCompletionStage().toCompletableFuture().join();
    }

    /** Which connections this process opens, and with what role. */
    void plan() {
        int base = proc * conns;
        switch (scenario) {
            case "idle" -> {
                for (int i = 0; i < conns; i++) {
                    int g = base + i;
                    all.add(new Conn(g, Role.MEMBER, "u" + g, "idle-" + (g / 10), urls.get(g % urls.size())));
                }
            }
            case "fanout" -> {
                for (int i = 0; i < conns; i++) {
                    int g = base + i;
                    all.add(new Conn(g, Role.SUB, "s" + g, "fan", urls.get(g % urls.size()), observers));
                }
                if (leader) {
                    for (int p = 0; p < publishers; p++) {
                        // publishers on the first node: with two nodes, every delivery to the
                        // subscribers of the second node crosses Redis
                        all.add(new Conn(-1 - p, Role.PUB, "p" + p, "fan", urls.get(0)));
                    }
                }
            }
            case "churn" -> {
                for (int i = 0; i < conns; i++) {
                    int g = base + i;
                    all.add(new Conn(g, Role.CHURN, "c" + g, "churn-" + (g % docs), urls.get(g % urls.size())));
                }
                if (leader) {
                    for (int d = 0; d < docs; d++) {
                        for (int w = 0; w < watchersPerDoc; w++) {
                            int n = d * watchersPerDoc + w;
                            all.add(new Conn(-1 - n, Role.WATCH, "w" + n, "churn-" + d, urls.get(n % urls.size())));
                        }
                    }
                }
            }
            case "cursors" -> {
                for (int i = 0; i < conns; i++) {
                    int g = base + i;
                    all.add(new Conn(g, Role.MEMBER, "m" + g, "cur", urls.get(g % urls.size())));
                }
            }
            default -> throw new IllegalArgumentException("unknown scenario " + scenario);
        }
        // churners join in the measured phase; everyone else joins while connecting
        expectedJoins = (int) all.stream().filter(c -> c.role != Role.CHURN).count();
    }

    int nextToConnect;
    int inFlight;
    int openCount;

    void connectAll() {
        connectStartNs = System.nanoTime();
        pump();
    }

    void pump() {
        while (inFlight < concurrency && nextToConnect < all.size()) {
            Conn c = all.get(nextToConnect++);
            inFlight++;
            open(c);
        }
    }

    void open(Conn c) {
        if (c.observer && proto == Proto.COPRESENCE) {
            openSse(c);
            return;
        }
        java.net.URI uri = java.net.URI.create(c.url);
        String path = uri.getRawPath();
        String q = "user=" + c.user + "&name=" + c.user;
        if (proto == Proto.SOCKETIO) {
            path = "/socket.io/";
            q = "EIO=4&transport=websocket&" + q;
        }
        WebSocketConnectOptions o = new WebSocketConnectOptions().setHost(uri.getHost()).setPort(uri.getPort())
                .setURI(path + "?" + q);
        if (browserCookieBytes >= 0) {
            browserHeaders(o, "http://" + uri.getHost() + ":" + uri.getPort(), browserCookieBytes);
        }
        client.connect(o).onComplete(ar -> {
            if (ar.failed()) {
                connectFailures++;
                inFlight--;
                if (connectFailures <= 5) {
                    System.err.println("connect failed: " + ar.cause());
                }
                checkConnected();
                pump();
                return;
            }
            WebSocket ws = ar.result();
            c.ws = ws;
            c.open = true;
            openCount++;
            ws.textMessageHandler(t -> onText(c, t));
            ws.exceptionHandler(e -> {
            });
            ws.closeHandler(v -> {
                c.open = false;
                Short code = ws.closeStatusCode();
                closeCodes.merge(String.valueOf(code == null ? -1 : (int) code), 1, Integer::sum);
                if (!stopping) {
                    unexpectedCloses++;
                }
            });
            if (proto != Proto.SOCKETIO) {
                afterOpen(c);
            }
        });
    }

    /**
     * A Copresence observer: {@code GET /sse/documents/{doc}} on the node of the WebSocket URL. It counts
     * as connected when the 200 arrives: the server sends its headers once the stream is subscribed,
     * so no broadcast after that is missed. Each event's {@code data} is the JSON of the WebSocket
     * frame, and goes down the same receive path, so latency and lost are counted the same way.
     */
    void openSse(Conn c) {
        java.net.URI uri = java.net.URI.create(c.url);
        RequestOptions o = new RequestOptions().setMethod(HttpMethod.GET).setHost(uri.getHost()).setPort(uri.getPort())
                .setURI("/sse/documents/" + c.doc).addHeader("Accept", "text/event-stream");
        http.request(o).compose(req -> {
            c.sse = req;
            return req.send();
        }).onComplete(ar -> {
            if (ar.failed() || ar.result().statusCode() != 200) {
                connectFailures++;
                inFlight--;
                if (connectFailures <= 5) {
                    System.err.println("SSE connect failed: " + (ar.failed() ? ar.cause() : "HTTP " + ar.result().statusCode()));
                }
                if (ar.succeeded()) {
                    c.close();
                }
                checkConnected();
                pump();
                return;
            }
            var resp = ar.result();
            SseParser parser = new SseParser(data -> onText(c, data));
            resp.handler(parser::feed);
            // the server ends a stream whose reader fell too far behind (copresence.sse.buffer)
            resp.endHandler(v -> sseGone(c, "sse-end"));
            resp.exceptionHandler(e -> sseGone(c, "sse-error"));
            c.open = true;
            openCount++;
            observingCount++;
            connectedOne();
        });
    }

    /** An event stream stopped: counted like a WebSocket close, its reason in place of a close code. */
    void sseGone(Conn c, String reason) {
        if (!c.open) {
            return; // already counted
        }
        c.open = false;
        closeCodes.merge(reason, 1, Integer::sum);
        if (!stopping) {
            unexpectedCloses++;
        }
    }

    /** The connection is ready for application messages. */
    void afterOpen(Conn c) {
        if (c.role == Role.CHURN) {
            connectedOne();
            return;
        }
        if (c.observer) {
            c.observe();
            return;
        }
        String state = switch (scenario) {
            case "idle" -> "{\"cursor\":" + c.index + ",\"color\":\"#" + Integer.toHexString(0x100000 + c.index % 0xeffff) + "\"}";
            default -> "{}";
        };
        c.join(state);
    }

    void connectedOne() {
        inFlight--;
        checkConnected();
        pump();
    }

    int readyConns;

    void checkConnected() {
        readyConns++;
        if (readyConns == all.size()) {
            connectEndNs = System.nanoTime();
            System.err.printf(Locale.ROOT, "proc %d: %d connections ready (%d failed) in %.1f s%n", proc, all.size() - connectFailures,
                    connectFailures, (connectEndNs - connectStartNs) / 1e9);
            arrive();
        }
    }

    // ---- receiving ------------------------------------------------------------------------------

    void onText(Conn c, String t) {
        String type;
        if (proto == Proto.SOCKETIO) {
            if (t.startsWith("42[\"")) {
                int end = t.indexOf('"', 4);
                type = t.substring(4, end);
            } else if (t.equals("2")) {
                c.send("3");
                return;
            } else if (t.startsWith("0{")) {
                c.send("40");
                return;
            } else if (t.startsWith("40")) {
                afterOpen(c);
                return;
            } else if (t.startsWith("44")) {
                errors++;
                errorCodes.merge("connect_error", 1, Integer::sum);
                return;
            } else {
                return;
            }
        } else {
            if (!t.startsWith("{\"type\":\"")) {
                return;
            }
            int end = t.indexOf('"', 9);
            type = t.substring(9, end);
        }
        switch (type) {
            case "joined" -> onJoined(c);
            case "broadcast" -> onBroadcast(c, t);
            case "presence" -> onPresence(c, t);
            case "ack", "left" -> onAck(c);
            case "error" -> {
                errors++;
                String code = stringField(t, "\"code\":\"");
                errorCodes.merge(code == null ? "?" : code, 1, Integer::sum);
                if (errors <= 5) {
                    System.err.println("error from server: " + t);
                }
            }
            default -> {
            }
        }
    }

    void onJoined(Conn c) {
        if (!c.joinPending) {
            return; // a repeated joined
        }
        c.joinPending = false;
        c.joined = true;
        if (c.role == Role.CHURN) {
            churnOpDone(c);
            return;
        }
        joinedCount++;
        connectedOne();
    }

    void onAck(Conn c) {
        if (c.observePending) {
            c.observePending = false;
            observingCount++;
            connectedOne();
            return;
        }
        if (c.role == Role.CHURN && c.leavePending) {
            c.leavePending = false;
            c.joined = false;
            churnOpDone(c);
        }
    }

    void onBroadcast(Conn c, String t) {
        if (c.role != Role.SUB || !running && !stopping) {
            return;
        }
        long sent = longField(t, "\"bt\":");
        int k = (int) longField(t, "\"bk\":");
        if (sent < 0 || k < 0 || k >= steps.length) {
            return;
        }
        Step s = steps[k];
        s.received++;
        s.hist.recordValue(Math.max(0, System.nanoTime() - sent));
    }

    void onPresence(Conn c, String t) {
        if (!running && !stopping) {
            return;
        }
        if (scenario.equals("cursors")) {
            long sent = longField(t, "\"ct\":");
            if (sent < 0 || !t.contains("\"event\":\"update\"")) {
                return;
            }
            int k = (int) longField(t, "\"ck\":");
            if (k < 0 || k >= steps.length) {
                return;
            }
            steps[k].received++;
            steps[k].hist.recordValue(Math.max(0, System.nanoTime() - sent));
        } else if (scenario.equals("churn") && c.role == Role.WATCH && isFirstWatcher(c)) {
            if (!t.contains("\"event\":\"join\"")) {
                return;
            }
            long sent = longField(t, "\"jt\":");
            int k = (int) longField(t, "\"jk\":");
            if (sent < 0 || k < 0 || k >= steps.length) {
                return;
            }
            steps[k].received++;
            steps[k].hist.recordValue(Math.max(0, System.nanoTime() - sent));
        }
    }

    boolean isFirstWatcher(Conn c) {
        int n = -1 - c.index;
        return n % watchersPerDoc == 0;
    }

    static long longField(String t, String key) {
        int i = t.indexOf(key);
        if (i < 0) {
            return -1;
        }
        i += key.length();
        long v = 0;
        boolean any = false;
        for (; i < t.length(); i++) {
            char ch = t.charAt(i);
            if (ch < '0' || ch > '9') {
                break;
            }
            v = v * 10 + (ch - '0');
            any = true;
        }
        return any ? v : -1;
    }

    static String stringField(String t, String key) {
        int i = t.indexOf(key);
        if (i < 0) {
            return null;
        }
        i += key.length();
        int end = t.indexOf('"', i);
        return end < 0 ? null : t.substring(i, end);
    }

    // ---- barrier --------------------------------------------------------------------------------

    void arrive() {
        try {
            Files.createDirectories(barrier);
            Files.writeString(barrier.resolve("ready." + proc), String.valueOf(all.size() - connectFailures));
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
        vertx.setPeriodic(50, id -> {
            try {
                if (leader && !goFromOutside && !Files.exists(barrier.resolve("go"))) {
                    long ready;
                    try (var s = Files.list(barrier)) {
                        ready = s.filter(p -> p.getFileName().toString().startsWith("ready.")).count();
                    }
                    if (ready >= procs) {
                        long go = System.currentTimeMillis() + goDelayMs;
                        Path tmp = barrier.resolve("go.tmp");
                        Files.writeString(tmp, String.valueOf(go));
                        Files.move(tmp, barrier.resolve("go"));
                    }
                }
                Path go = barrier.resolve("go");
                if (Files.exists(go)) {
                    vertx.cancelTimer(id);
                    goEpochMs = Long.parseLong(Files.readString(go).trim());
                    long delayMs = Math.max(1, goEpochMs - System.currentTimeMillis());
                    goNs = System.nanoTime() + delayMs * 1_000_000L;
                    vertx.setTimer(delayMs, t -> start());
                }
            } catch (IOException | NumberFormatException e) {
                // the go file is being written; try again
            }
        });
    }

    // ---- the measured phase ---------------------------------------------------------------------

    long stepNs() {
        return (long) (stepSeconds * 1e9);
    }

    int currentStep(long now) {
        long i = (now - goNs) / stepNs();
        return i < 0 ? 0 : (int) Math.min(i, steps.length);
    }

    void start() {
        running = true;
        if (scenario.equals("idle")) {
            // hold the connections until the orchestrator has measured the server, then leave
            long deadline = System.currentTimeMillis() + holdSeconds * 1000;
            vertx.setPeriodic(100, id -> {
                if (Files.exists(barrier.resolve("done")) || System.currentTimeMillis() > deadline) {
                    vertx.cancelTimer(id);
                    finish();
                }
            });
            return;
        }
        // every process times its own CPU over the steps; the leader also the servers'
        int self = (int) ProcessHandle.current().pid();
        steps[0].driverTicksStart = ProcStat.cpuTicks(self);
        steps[0].driverSwitchesStart = ProcStat.Threads.of(self).switches();
        for (int k = 0; k < steps.length; k++) {
            int kk = k;
            long at = (long) ((k + 1) * stepSeconds * 1000);
            vertx.setTimer(at, t -> {
                long own = ProcStat.cpuTicks(self);
                long switches = ProcStat.Threads.of(self).switches();
                steps[kk].driverTicksEnd = own;
                steps[kk].driverSwitchesEnd = switches;
                if (kk + 1 < steps.length) {
                    steps[kk + 1].driverTicksStart = own;
                    steps[kk + 1].driverSwitchesStart = switches;
                }
                if (leader) {
                    sampleCpu(kk, false);
                    if (kk + 1 < steps.length) {
                        sampleCpu(kk + 1, true);
                    }
                }
            });
        }
        if (leader) {
            sampleCpu(0, true);
        }
        long endMs = (long) (steps.length * stepSeconds * 1000);
        switch (scenario) {
            case "fanout" -> {
                if (leader) {
                    publishLoop();
                }
            }
            case "churn" -> churnLoop();
            case "cursors" -> cursorsLoop();
            default -> {
            }
        }
        vertx.setTimer(endMs, t -> {
            running = false;
            stopping = true; // late deliveries still count, to their step
            vertx.setTimer((long) (drainSeconds * 1000), t2 -> finish());
        });
    }

    void sampleCpu(int k, boolean start) {
        if (serverPids.length == 0) {
            return;
        }
        long ticks = 0;
        long rss = 0;
        ProcStat.Threads threads = ProcStat.Threads.ZERO;
        for (int pid : serverPids) {
            ticks += ProcStat.cpuTicks(pid);
            rss += ProcStat.rssKb(pid);
            threads = threads.plus(ProcStat.Threads.of(pid));
        }
        if (start) {
            steps[k].cpuTicksStart = ticks;
            steps[k].threadsStart = threads;
        } else {
            steps[k].cpuTicksEnd = ticks;
            steps[k].rssKbEnd = rss;
            steps[k].threadsEnd = threads;
        }
    }

    String padding() {
        if (payloadBytes <= 0) {
            return "";
        }
        return ",\"pad\":\"" + "x".repeat(payloadBytes) + "\"";
    }

    /** The current time and step, to a scenario's loop. */
    interface Tick {
        void run(long now, int k);
    }

    /** Runs {@code tick} every {@code millis} ms until the measured steps are over. */
    void eachTick(long millis, Tick tick) {
        vertx.setPeriodic(millis, id -> {
            long now = System.nanoTime();
            int k = currentStep(now);
            if (!running || k >= steps.length) {
                vertx.cancelTimer(id);
                return;
            }
            tick.run(now, k);
        });
    }

    void publishLoop() {
        List<Conn> pubs = all.stream().filter(c -> c.role == Role.PUB).toList();
        String pad = padding();
        long[] published = new long[1];
        long[] stepStart = {goNs};
        int[] stepIndex = {0};
        int[] rr = {0};
        eachTick(1, (now, k) -> {
            if (k != stepIndex[0]) {
                stepIndex[0] = k;
                stepStart[0] = goNs + k * stepNs();
                published[0] = 0;
            }
            Step s = steps[k];
            // the i-th broadcast of a step at (i + phase) periods: two systems at once publish in turn
            long due = (long) Math.max(0, (now - stepStart[0]) / 1e9 * s.rate - phase);
            while (published[0] < due) {
                Conn p = pubs.get(rr[0]++ % pubs.size());
                p.seq++;
                published[0]++;
                s.published++;
                p.emit("broadcast", "\"doc\":\"fan\",\"data\":{\"bt\":" + System.nanoTime() + ",\"bk\":" + k + ",\"bs\":"
                        + p.seq + pad + "}");
            }
        });
    }

    final ArrayDeque<Conn> churnOut = new ArrayDeque<>();
    final ArrayDeque<Conn> churnIn = new ArrayDeque<>();
    int churnBusy;

    void churnLoop() {
        for (Conn c : all) {
            if (c.role == Role.CHURN && c.open) {
                churnOut.add(c);
            }
        }
        int churners = churnOut.size();
        double[] credit = {0};
        long[] last = {System.nanoTime()};
        eachTick(1, (now, k) -> {
            credit[0] += (now - last[0]) / 1e9 * steps[k].rate / procs;
            last[0] = now;
            credit[0] = Math.min(credit[0], Math.max(1, steps[k].rate / procs)); // no burst past a second's worth
            while (credit[0] >= 1) {
                // keep about half of the churners in; leave when more are in, join otherwise
                Conn c;
                boolean leave = churnIn.size() > churners / 2 || churnOut.isEmpty();
                c = leave ? churnIn.poll() : churnOut.poll();
                if (c == null) {
                    break; // every churner has an operation in flight: the system is behind
                }
                credit[0] -= 1;
                churnBusy++;
                if (leave) {
                    c.leave();
                } else {
                    steps[k].published++;
                    c.join("{\"jt\":" + System.nanoTime() + ",\"jk\":" + k + "}");
                }
            }
        });
    }

    void churnOpDone(Conn c) {
        churnBusy--;
        if (running || stopping) {
            int k = Math.min(currentStep(System.nanoTime()), steps.length - 1);
            steps[k].ops++;
        }
        (c.joined ? churnIn : churnOut).add(c);
    }

    void cursorsLoop() {
        List<Conn> members = all.stream().filter(c -> c.role == Role.MEMBER && c.joined).toList();
        long now0 = System.nanoTime();
        for (Conn c : members) {
            c.nextDueNs = now0 + (long) (Math.random() * 1e9 / Math.max(1, steps[0].rate));
        }
        eachTick(2, (now, k) -> {
            Step s = steps[k];
            long period = (long) (1e9 / s.rate);
            for (Conn c : members) {
                if (now >= c.nextDueNs) {
                    c.nextDueNs = Math.max(c.nextDueNs + period, now - period);
                    c.seq++;
                    s.published++;
                    c.emit("update", "\"doc\":\"cur\",\"state\":{\"ct\":" + System.nanoTime() + ",\"ck\":" + k
                            + ",\"x\":" + (c.seq % 1000) + ",\"y\":" + c.index + "}");
                }
            }
        });
    }

    // ---- results --------------------------------------------------------------------------------

    void finish() {
        try {
            Files.writeString(barrier.resolve("finished." + proc), "1");
            writeResult();
        } catch (IOException e) {
            e.printStackTrace();
        }
        stopping = true;
        for (Conn c : all) {
            if (c.open) {
                c.close();
            }
        }
        vertx.setTimer(500, t -> finished.countDown());
    }

    void writeResult() throws IOException {
        JsonObject j = new JsonObject();
        j.put("scenario", scenario).put("proto", proto.name().toLowerCase(Locale.ROOT)).put("proc", proc)
                .put("procs", procs).put("connections", all.size()).put("opened", openCount)
                .put("joined", joinedCount).put("observers", observers).put("observing", observingCount)
                .put("connectFailures", connectFailures)
                .put("connectSeconds", (connectEndNs - connectStartNs) / 1e9)
                .put("unexpectedCloses", unexpectedCloses).put("errors", errors);
        JsonObject cc = new JsonObject();
        closeCodes.forEach(cc::put);
        j.put("closeCodes", cc);
        JsonObject ec = new JsonObject();
        errorCodes.forEach(ec::put);
        j.put("errorCodes", ec);
        j.put("subscribers", all.stream().filter(c -> c.role == Role.SUB || c.role == Role.MEMBER).count());
        JsonArray arr = new JsonArray();
        for (Step s : steps) {
            JsonObject so = new JsonObject().put("k", s.k).put("rate", s.rate).put("published", s.published)
                    .put("received", s.received).put("ops", s.ops);
            if (s.cpuTicksStart >= 0 && s.cpuTicksEnd >= 0) {
                so.put("cpuTicks", s.cpuTicksEnd - s.cpuTicksStart).put("serverRssKb", s.rssKbEnd);
                if (s.threadsStart != null && s.threadsEnd != null && s.threadsStart.known() && s.threadsEnd.known()) {
                    if (s.threadsStart.jitTicks() >= 0 && s.threadsEnd.jitTicks() >= 0) {
                        // a compiler thread the JVM added for a busy moment may have ended since the start
                        so.put("jitTicks", Math.max(0, s.threadsEnd.jitTicks() - s.threadsStart.jitTicks()));
                    }
                    so.put("loopTicks", Math.max(0, s.threadsEnd.loopTicks() - s.threadsStart.loopTicks()))
                            .put("gcTicks", Math.max(0, s.threadsEnd.gcTicks() - s.threadsStart.gcTicks()))
                            .put("ctxSwitches", Math.max(0, s.threadsEnd.switches() - s.threadsStart.switches()));
                }
            }
            if (s.driverTicksStart >= 0 && s.driverTicksEnd >= 0) {
                so.put("driverCpuTicks", s.driverTicksEnd - s.driverTicksStart);
            }
            if (s.driverSwitchesStart >= 0 && s.driverSwitchesEnd >= 0) {
                so.put("driverCtxSwitches", Math.max(0, s.driverSwitchesEnd - s.driverSwitchesStart));
            }
            ByteBuffer buf = ByteBuffer.allocate(s.hist.getNeededByteBufferCapacity());
            int n = s.hist.encodeIntoCompressedByteBuffer(buf);
            so.put("hist", Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(buf.array(), n)));
            arr.add(so);
        }
        j.put("steps", arr);
        Files.writeString(out, j.encodePrettily());
    }

    // ---- /proc ----------------------------------------------------------------------------------

    static final class ProcStat {
        /** utime + stime of the process and its reaped children, in clock ticks. */
        static long cpuTicks(int pid) {
            try {
                return cpuTicksOf(Path.of("/proc/" + pid + "/stat"));
            } catch (IOException | RuntimeException e) {
                return 0;
            }
        }

        /** utime + stime from a /proc stat file, of a process or of one of its threads. */
        static long cpuTicksOf(Path stat) throws IOException {
            String s = Files.readString(stat);
            String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
            // after the command: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14)
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        }

        /**
         * A process's threads at one moment, read in one pass over /proc/PID/task (at every step's edge,
         * on the driver's event loop: one pass, not one per figure):
         * <ul>
         * <li>the CPU ticks of its event loops (Vert.x's, or Node's main thread);</li>
         * <li>of its collector: a JVM's GC threads and its VM Thread, where the serial collector of a
         * one-CPU JVM collects, but which also runs the JVM's other safepoint work (deoptimisation,
         * handshakes), so this figure is the collector's at most;</li>
         * <li>of a JVM's JIT compiler threads ({@code C1 CompilerThread0}, {@code C2 CompilerThread0}, ...;
         * the kernel keeps 15 characters of a name): CPU a server running for days no longer spends, so
         * that a step can say how much of it was the JVM still compiling; -1 without such threads (Node's
         * compiler shares its workers with the GC, so it is not split);</li>
         * <li>and every thread's context switches, voluntary or not.</li>
         * </ul>
         * Threads that end between two readings take their ticks and switches with them, so a figure
         * can be lower than the truth; the process's total ({@link #cpuTicks}) stays exact. With Redis
         * among the server's processes (churn, two nodes), its switches count and its loop does not.
         */
        record Threads(long loopTicks, long gcTicks, long jitTicks, long switches) {
            static final Threads NONE = new Threads(-1, -1, -1, -1);
            /** Where a sum over several processes starts (no JIT threads yet). */
            static final Threads ZERO = new Threads(0, 0, -1, 0);

            static Threads of(int pid) {
                long loop = 0;
                long gc = 0;
                long jit = -1;
                long switches = 0;
                try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
                    for (Path task : (Iterable<Path>) tasks::iterator) {
                        try {
                            String name = Files.readString(task.resolve("comm")).strip();
                            long ticks = cpuTicksOf(task.resolve("stat"));
                            if (name.startsWith("vert.x-eventloo")
                                    || (name.equals("node") && task.getFileName().toString().equals(String.valueOf(pid)))) {
                                loop += ticks;
                            } else if (name.equals("VM Thread") || name.startsWith("GC Thread") || name.startsWith("G1 ")) {
                                gc += ticks;
                            } else if (name.startsWith("C1 CompilerThre") || name.startsWith("C2 CompilerThre")) {
                                jit = Math.max(jit, 0) + ticks;
                            }
                            switches += switchesOf(task.resolve("status"));
                        } catch (IOException | RuntimeException e) {
                            // the thread ended between the listing and the read
                        }
                    }
                } catch (IOException | RuntimeException e) {
                    return NONE; // the process is gone
                }
                return new Threads(loop, gc, jit, switches);
            }

            boolean known() {
                return switches >= 0;
            }

            /** Several server processes' threads together (two nodes); unknown if any is. */
            Threads plus(Threads o) {
                if (!known() || !o.known()) {
                    return NONE;
                }
                long jit = jitTicks < 0 ? o.jitTicks : o.jitTicks < 0 ? jitTicks : jitTicks + o.jitTicks;
                return new Threads(loopTicks + o.loopTicks, gcTicks + o.gcTicks, jit, switches + o.switches);
            }

            private static long switchesOf(Path status) throws IOException {
                long n = 0;
                for (String line : Files.readAllLines(status)) {
                    if (line.startsWith("voluntary_ctxt_switches:") || line.startsWith("nonvoluntary_ctxt_switches:")) {
                        n += Long.parseLong(line.substring(line.indexOf(':') + 1).strip());
                    }
                }
                return n;
            }
        }

        static long rssKb(int pid) {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                    if (line.startsWith("VmRSS:")) {
                        return Long.parseLong(line.replaceAll("[^0-9]", ""));
                    }
                }
            } catch (IOException | RuntimeException e) {
                // gone
            }
            return 0;
        }
    }

    // ---- merge ----------------------------------------------------------------------------------

    static final class Merge {
        static void merge(Map<String, String> o) throws IOException, DataFormatException {
            List<JsonObject> parts = new ArrayList<>();
            for (String f : o.get("in").split(",")) {
                parts.add(new JsonObject(Files.readString(Path.of(f))));
            }
            double clkTck = Double.parseDouble(o.getOrDefault("clk-tck", "100"));
            double stepSeconds = Double.parseDouble(o.getOrDefault("step-seconds", "10"));
            JsonObject meta = o.containsKey("meta") ? new JsonObject(Files.readString(Path.of(o.get("meta"))))
                    : new JsonObject();
            JsonObject r = meta.copy();
            JsonObject first = parts.get(0);
            r.put("scenario", first.getString("scenario")).put("proto", first.getString("proto"))
                    .put("observers", first.getBoolean("observers", false)).put("driverProcesses", parts.size());
            long conns = 0;
            long opened = 0;
            long failures = 0;
            long unexpected = 0;
            long errors = 0;
            long subscribers = 0;
            long observing = 0;
            double connectSeconds = 0;
            Map<String, Long> closeCodes = new TreeMap<>();
            Map<String, Long> errorCodes = new TreeMap<>();
            for (JsonObject p : parts) {
                conns += p.getLong("connections");
                opened += p.getLong("opened");
                failures += p.getLong("connectFailures");
                unexpected += p.getLong("unexpectedCloses");
                errors += p.getLong("errors");
                subscribers += p.getLong("subscribers");
                observing += p.getLong("observing", 0L);
                connectSeconds = Math.max(connectSeconds, p.getDouble("connectSeconds"));
                p.getJsonObject("closeCodes").forEach(e -> closeCodes.merge(e.getKey(), ((Number) e.getValue()).longValue(), Long::sum));
                p.getJsonObject("errorCodes").forEach(e -> errorCodes.merge(e.getKey(), ((Number) e.getValue()).longValue(), Long::sum));
            }
            r.put("connections", conns).put("opened", opened).put("connectFailures", failures)
                    .put("unexpectedCloses", unexpected).put("errors", errors).put("subscribers", subscribers)
                    .put("observing", observing).put("connectSeconds", round(connectSeconds, 2))
                    .put("connectRate", connectSeconds > 0 ? Math.round(opened / connectSeconds) : 0);
            JsonObject cc = new JsonObject();
            closeCodes.forEach(cc::put);
            r.put("closeCodes", cc);
            JsonObject ec = new JsonObject();
            errorCodes.forEach(ec::put);
            r.put("errorCodes", ec);
            String scenario = first.getString("scenario");
            JsonArray steps = new JsonArray();
            // leading steps that only warm the systems up (JIT, pools): kept apart, never reported as results
            int warmupSteps = Integer.parseInt(o.getOrDefault("warmup-steps", "0"));
            JsonArray warmup = new JsonArray();
            int n = first.getJsonArray("steps").size();
            long totalPeers = o.containsKey("members") ? Long.parseLong(o.get("members")) : subscribers;
            for (int k = 0; k < n; k++) {
                Histogram h = new Histogram(3_600_000_000_000L, 3);
                long published = 0;
                long received = 0;
                long ops = 0;
                long cpu = -1;
                long jit = -1;
                long rss = 0;
                long driverCpu = -1;
                long loop = -1;
                long gc = -1;
                long switches = -1;
                long driverSwitches = -1;
                double rate = 0;
                for (JsonObject p : parts) {
                    JsonObject s = p.getJsonArray("steps").getJsonObject(k);
                    rate = s.getDouble("rate");
                    published += s.getLong("published");
                    received += s.getLong("received");
                    ops += s.getLong("ops");
                    if (s.containsKey("driverCpuTicks")) {
                        driverCpu = Math.max(driverCpu, 0) + s.getLong("driverCpuTicks");
                    }
                    if (s.containsKey("driverCtxSwitches")) {
                        driverSwitches = Math.max(driverSwitches, 0) + s.getLong("driverCtxSwitches");
                    }
                    if (s.containsKey("cpuTicks")) {
                        cpu = s.getLong("cpuTicks");
                        jit = s.getLong("jitTicks", -1L);
                        rss = s.getLong("serverRssKb");
                        loop = s.getLong("loopTicks", -1L);
                        gc = s.getLong("gcTicks", -1L);
                        switches = s.getLong("ctxSwitches", -1L);
                    }
                    byte[] bytes = Base64.getDecoder().decode(s.getString("hist"));
                    h.add(Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(bytes), 0));
                }
                JsonObject so = new JsonObject().put("rate", rate).put("published", published).put("received", received);
                long expected = switch (scenario) {
                    case "fanout" -> published * subscribers;
                    case "cursors" -> published * (totalPeers - 1);
                    default -> published; // churn: each join seen by one watcher
                };
                so.put("expected", expected);
                if (scenario.equals("cursors")) {
                    so.put("updatesSentPerSec", round(published / stepSeconds, 1));
                    so.put("deliveredPerSec", round(received / stepSeconds, 1));
                    so.put("conflationSaved", expected > 0 ? round(1.0 - (double) received / expected, 4) : 0);
                } else if (scenario.equals("churn")) {
                    so.put("opsCompleted", ops).put("opsPerSec", round(ops / stepSeconds, 1))
                            .put("joinsSeen", received).put("joinsNotSeen", Math.max(0, expected - received));
                } else {
                    so.put("lost", Math.max(0, expected - received));
                    so.put("deliveredPerSec", round(received / stepSeconds, 1));
                }
                so.put("p50ms", ms(h.getValueAtPercentile(50))).put("p99ms", ms(h.getValueAtPercentile(99)))
                        .put("p999ms", ms(h.getValueAtPercentile(99.9))).put("maxMs", ms(h.getMaxValue()))
                        .put("samples", h.getTotalCount());
                if (cpu >= 0) {
                    double cpuSeconds = cpu / clkTck;
                    so.put("serverCpuSeconds", round(cpuSeconds, 2))
                            .put("serverCpuPercent", round(100 * cpuSeconds / stepSeconds, 1))
                            .put("serverRssMiB", round(rss / 1024.0, 1));
                    if (jit >= 0) {
                        so.put("serverJitCpuSeconds", round(jit / clkTck, 2));
                    }
                    long deliveries = scenario.equals("churn") ? ops : received;
                    if (deliveries > 0) {
                        String perUnit = scenario.equals("churn") ? "serverCpuUsPerOp" : "serverCpuUsPerDelivery";
                        so.put(perUnit, round(cpuSeconds * 1e6 / deliveries, 2));
                        if (jit >= 0) {
                            // without the JIT compiler's threads: what a server that has run for long pays
                            so.put(perUnit + "ExJit", round((cpu - jit) / clkTck * 1e6 / deliveries, 2));
                        }
                        if (loop >= 0) {
                            // where a dear step's CPU went: the event loops' work, or the collector's
                            so.put(perUnit + "Loops", round(loop / clkTck * 1e6 / deliveries, 2))
                                    .put(perUnit + "Gc", round(gc / clkTck * 1e6 / deliveries, 2))
                                    .put("serverCtxSwitchesPer1000", round(switches * 1000.0 / deliveries, 1));
                        }
                    }
                }
                if (driverCpu >= 0) {
                    // all driver processes share one CPU: near 100 %, the latency is the driver's own queue
                    double seconds = driverCpu / clkTck;
                    so.put("driverCpuPercent", round(100 * seconds / stepSeconds, 1));
                    long deliveries = scenario.equals("churn") ? ops : received;
                    if (deliveries > 0) {
                        so.put("driverCpuUsPerDelivery", round(seconds * 1e6 / deliveries, 2));
                        if (driverSwitches >= 0) {
                            so.put("driverCtxSwitchesPer1000", round(driverSwitches * 1000.0 / deliveries, 1));
                        }
                    }
                }
                (k < warmupSteps ? warmup : steps).add(so);
            }
            r.put("warmup", warmup);
            r.put("steps", steps);
            if (scenario.equals("fanout")) {
                double best = 0;
                for (int k = 0; k < steps.size(); k++) {
                    JsonObject s = steps.getJsonObject(k);
                    if (s.getDouble("p99ms") < 100 && s.getLong("lost") == 0 && s.getLong("received") > 0) {
                        best = Math.max(best, s.getDouble("rate"));
                    }
                }
                r.put("highestRateP99Under100ms", best);
            }
            Files.writeString(Path.of(o.get("out")), r.encodePrettily());
        }

        static double ms(long ns) {
            return round(ns / 1e6, 3);
        }

        static double round(double v, int digits) {
            double f = Math.pow(10, digits);
            return Math.round(v * f) / f;
        }
    }

}
