package dev.copresence.protocol;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.lessThan;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

/**
 * The codec against wire protocol v1 ("Client → server", "Server → client", "Errors"), without a
 * server: what each client frame decodes to, what each refused frame is answered with, and the exact
 * JSON of each server message.
 */
class CodecTest {
    /** A plain mapper, not the codec's, so that expectations do not share the code under test. */
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode tree(String json) {
        try {
            return JSON.readTree(json);
        } catch (Exception e) {
            throw new AssertionError("test JSON is broken: " + json, e);
        }
    }

    private static ObjectNode object(String json) {
        return (ObjectNode) tree(json);
    }

    private static ProtocolException refused(String frame) {
        return assertThrows(ProtocolException.class, () -> Codec.decode(frame), frame);
    }

    private static void assertRefused(String frame, ErrorCode code, JsonNode id) {
        ProtocolException e = refused(frame);
        assertEquals(code, e.code(), () -> frame + " -> " + e.getMessage());
        assertEquals(id, e.id(), () -> "id of the error for " + frame);
        assertFalse(e.getMessage() == null || e.getMessage().isBlank(), "an error has a human readable message");
    }

    // ---- decoding: each client message type ----------------------------------------------------

    @Test
    void joinWithEverything() {
        ClientMessage m = Codec.decode("{\"type\":\"join\",\"id\":1,\"doc\":\"d-1\",\"state\":{\"cursor\":{\"x\":3}},"
                + "\"user\":{\"id\":\"u1\",\"name\":\"Ada\"},\"since\":\"17-0\"}");
        assertEquals(new ClientMessage.Join(IntNode.valueOf(1), "d-1", object("{\"cursor\":{\"x\":3}}"),
                new UserRef("u1", "Ada"), "17-0"), m);
    }

    @Test
    void anySinceStringIsTakenForTheEngineToResumeFromOrNot() {
        // the contract: an offset the server did not issue gives resumed:false, not an error
        for (String since : new String[] { "", "1".repeat(300), "not-an-offset" }) {
            assertEquals(new ClientMessage.Join(null, "d", null, null, since),
                    Codec.decode("{\"type\":\"join\",\"doc\":\"d\",\"since\":\"" + since + "\"}"));
        }
    }

    @Test
    void aDurableFramesOffsetIsFoundWithoutParsingIt() {
        String frame = Codec.withOffset("{\"type\":\"broadcast\",\"doc\":\"d\",\"data\":{\"offset\":\"fake\"},\"offset\":\"", "17-3");
        assertEquals("17-3", Codec.offsetOf(frame));
        assertEquals(null, Codec.offsetOf("{\"type\":\"pong\"}"));
        assertEquals(null, Codec.offsetOf("{\"type\":\"presence\",\"data\":{\"offset\":\"x\",\"y\":\"z\"}}"));
    }

    @Test
    void joinWithNothingOptional() {
        assertEquals(new ClientMessage.Join(null, "d", null, null, null), Codec.decode("{\"type\":\"join\",\"doc\":\"d\"}"));
        assertEquals(new ClientMessage.Join(null, "d", null, null, null),
                Codec.decode("{\"type\":\"join\",\"doc\":\"d\",\"state\":null,\"user\":null,\"since\":null}"),
                "explicit nulls are the same as absent optional fields");
        assertEquals(new ClientMessage.Join(null, null, null, null, null), Codec.decode("{\"type\":\"join\"}"),
                "doc may be left out (the bound endpoint fills it in)");
        assertEquals(new ClientMessage.Join(null, "d", null, new UserRef("u1", null), null),
                Codec.decode("{\"type\":\"join\",\"doc\":\"d\",\"user\":{\"id\":\"u1\"}}"), "a user without a name");
    }

    @Test
    void leave() {
        assertEquals(new ClientMessage.Leave(TextNode.valueOf("a"), "d"), Codec.decode("{\"type\":\"leave\",\"id\":\"a\",\"doc\":\"d\"}"));
    }

    @Test
    void update() {
        assertEquals(new ClientMessage.Update(null, "d", object("{\"x\":1,\"gone\":null}")),
                Codec.decode("{\"type\":\"update\",\"doc\":\"d\",\"state\":{\"x\":1,\"gone\":null}}"),
                "a key set to null reaches the merge as null");
    }

    @Test
    void typing() {
        assertEquals(new ClientMessage.Typing(null, "d", true), Codec.decode("{\"type\":\"typing\",\"doc\":\"d\",\"typing\":true}"));
        assertEquals(new ClientMessage.Typing(IntNode.valueOf(2), "d", false),
                Codec.decode("{\"type\":\"typing\",\"id\":2,\"doc\":\"d\",\"typing\":false}"));
    }

    @Test
    void broadcastWithAndWithoutEcho() {
        assertEquals(new ClientMessage.Broadcast(null, "d", tree("{\"k\":[1,\"two\"]}"), false),
                Codec.decode("{\"type\":\"broadcast\",\"doc\":\"d\",\"data\":{\"k\":[1,\"two\"]}}"), "echo defaults to false");
        assertEquals(new ClientMessage.Broadcast(null, "d", tree("5"), true),
                Codec.decode("{\"type\":\"broadcast\",\"doc\":\"d\",\"data\":5,\"echo\":true}"));
        assertEquals(new ClientMessage.Broadcast(null, "d", NullNode.getInstance(), false),
                Codec.decode("{\"type\":\"broadcast\",\"doc\":\"d\",\"data\":null,\"echo\":false}"),
                "data may be any JSON, null included");
    }

    @Test
    void signal() {
        assertEquals(new ClientMessage.Signal(IntNode.valueOf(9), "d", "m-abc", tree("{\"sdp\":\"v=0\"}")),
                Codec.decode("{\"type\":\"signal\",\"id\":9,\"doc\":\"d\",\"to\":\"m-abc\",\"data\":{\"sdp\":\"v=0\"}}"));
    }

    @Test
    void watchAndUnwatch() {
        assertEquals(new ClientMessage.Watch(null, List.of("u1", "u2")), Codec.decode("{\"type\":\"watch\",\"users\":[\"u1\",\"u2\"]}"));
        assertEquals(new ClientMessage.Watch(null, List.of("u2", "u1")),
                Codec.decode("{\"type\":\"watch\",\"users\":[\"u2\",\"u1\",\"u2\",\"u1\"]}"),
                "a user named twice is watched once (one status each), in the order first named");
        assertEquals(new ClientMessage.Unwatch(TextNode.valueOf("w"), List.of("u1")),
                Codec.decode("{\"type\":\"unwatch\",\"id\":\"w\",\"users\":[\"u1\"]}"));
        assertEquals(new ClientMessage.Watch(null, List.of()), Codec.decode("{\"type\":\"watch\",\"users\":[]}"),
                "an empty list is a list: a client watching whoever is in a list that is empty now");
    }

    @Test
    void ping() {
        assertEquals(new ClientMessage.Ping(null), Codec.decode("{\"type\":\"ping\"}"));
        assertEquals(new ClientMessage.Ping(TextNode.valueOf("p")), Codec.decode("{\"type\":\"ping\",\"id\":\"p\"}"));
    }

    @Test
    void auth() {
        assertEquals(new ClientMessage.Auth(IntNode.valueOf(3), "eyJ.a.b"), Codec.decode("{\"type\":\"auth\",\"id\":3,\"token\":\"eyJ.a.b\"}"));
    }

    @Test
    void fieldOrderAndUnknownFieldsDoNotMatter() {
        assertEquals(new ClientMessage.Leave(IntNode.valueOf(1), "d"),
                Codec.decode("{\"doc\":\"d\",\"extra\":{\"x\":[1]},\"id\":1,\"type\":\"leave\"}"));
    }

    // ---- ids ------------------------------------------------------------------------------------

    @Test
    void validIdsAreKeptAsGiven() {
        assertEquals(IntNode.valueOf(-5), Codec.decode("{\"type\":\"ping\",\"id\":-5}").id());
        assertEquals(LongNode.valueOf(Long.MAX_VALUE), Codec.decode("{\"type\":\"ping\",\"id\":" + Long.MAX_VALUE + "}").id());
        assertEquals(LongNode.valueOf(Long.MIN_VALUE), Codec.decode("{\"type\":\"ping\",\"id\":" + Long.MIN_VALUE + "}").id());
        assertEquals(TextNode.valueOf(""), Codec.decode("{\"type\":\"ping\",\"id\":\"\"}").id());
        assertEquals(TextNode.valueOf("x".repeat(128)), Codec.decode("{\"type\":\"ping\",\"id\":\"" + "x".repeat(128) + "\"}").id());
        assertEquals(TextNode.valueOf("日本🙂\"\\\n"), Codec.decode("{\"type\":\"ping\",\"id\":\"日本🙂\\\"\\\\\\n\"}").id());
    }

    @Test
    void loneSurrogatesAreEscapedAndPairsLeftAsTheyAre() {
        String pair = "\uD83D\uDE00";
        assertSame(pair, Codec.escapeLoneSurrogates(pair));
        assertEquals("a\\ud83db\\ude00" + pair + "\\ud83d", Codec.escapeLoneSurrogates("a\uD83Db\uDE00" + pair + "\uD83D"));
    }

    private static final String TEN_ZEROS = "0000000000";

    /** The contract's ids are numbers or strings: any number, echoed as the same number. */
    @ParameterizedTest
    @ValueSource(strings = { "1.5", "1.0", "1e3", "-0.0", "9223372036854775808", "-9223372036854775809",
            "123456789012345678901234567890" })
    void numericIdsAreEchoedAsTheSameNumber(String id) {
        JsonNode decoded = Codec.decode("{\"type\":\"ping\",\"id\":" + id + "}").id();
        String echoed = Codec.encode(new ServerMessage.Pong(decoded));
        JsonNode back = Codec.readTreeOrNull(echoed).get("id");
        assertTrue(back.isNumber(), echoed);
        assertEquals(0, new BigDecimal(id).compareTo(back.decimalValue()), id + " came back as " + echoed);
    }

    /** An id that is not a usable id is itself a bad request, and the error cannot echo it. */
    @ParameterizedTest
    @ValueSource(strings = { "1e400", "-1e400", "1" + TEN_ZEROS + TEN_ZEROS + TEN_ZEROS + TEN_ZEROS + TEN_ZEROS + TEN_ZEROS
            + TEN_ZEROS + TEN_ZEROS + TEN_ZEROS + TEN_ZEROS + TEN_ZEROS + TEN_ZEROS + TEN_ZEROS, // 131 digits
            "{\"a\":1}", "[1]", "[]", "true", "null" })
    void unusableIdsAreBadRequestWithoutId(String id) {
        assertRefused("{\"type\":\"ping\",\"id\":" + id + "}", ErrorCode.BAD_REQUEST, null);
        assertRefused("{\"type\":\"join\",\"doc\":\"d\",\"id\":" + id + "}", ErrorCode.BAD_REQUEST, null);
    }

    @Test
    void aStringIdOver128CharactersIsBadRequestWithoutId() {
        assertRefused("{\"type\":\"ping\",\"id\":\"" + "x".repeat(129) + "\"}", ErrorCode.BAD_REQUEST, null);
    }

    // ---- decoding: rejections -------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = { "", " ", "nope", "{", "{\"type\":\"join\",", "{\"type\":\"ping\"", "{\"type\":\"ping\",\"id\":\"x",
            "{\"type\":'ping'}", "{type:\"ping\"}", "{\"type\":\"ping\",}", "{\"type\":\"ping\"}}", "{\"type\":\"ping\"} x",
            "{\"type\":\"ping\"}{\"type\":\"ping\"}", "{\"type\":\"ping\"} []", "{\"type\":\"ping\"}\u0000",
            "{\"type\":\"ping\",\"type\":\"ping\"}", "{\"type\":\"ping\",\"id\":1,\"id\":2}",
            "{\"type\":\"update\",\"doc\":\"d\",\"state\":{\"a\":1,\"a\":2}}",
            "{\"type\":\"ping\",\"id\":NaN}", "{\"type\":\"ping\",\"id\":01}", "{\"type\":\"ping\",\"id\":0x1F}",
            "{\"type\":\"ping\"/*c*/}", "{\"type\":\"pi\u0001ng\"}", "{\"type\":\"ping\",\"id\":\"a\u0000b\"}",
            "\u000b{\"type\":\"ping\"}" })
    void notJsonIsBadJsonWithoutId(String frame) {
        assertRefused(frame, ErrorCode.BAD_JSON, null);
        String message = refused(frame).getMessage();
        assertFalse(message.contains("Source") || message.contains("REDACTED") || message.length() > 220,
                "a reason a person can read, without the parser's internals: " + message);
    }

    static Stream<Arguments> badRequests() {
        String d = "\"doc\":\"d\"";
        return Stream.of(
                // not an object
                Arguments.of("[1,2]", null), Arguments.of("\"ping\"", null), Arguments.of("42", null), Arguments.of("null", null),
                // type
                Arguments.of("{\"id\":1}", 1), Arguments.of("{\"type\":1,\"id\":1}", 1), Arguments.of("{\"type\":null,\"id\":1}", 1),
                Arguments.of("{\"type\":[\"ping\"],\"id\":1}", 1),
                // doc
                Arguments.of("{\"type\":\"join\",\"id\":1,\"doc\":5}", 1), Arguments.of("{\"type\":\"join\",\"id\":1,\"doc\":{}}", 1),
                Arguments.of("{\"type\":\"leave\",\"id\":1,\"doc\":\"\"}", 1), Arguments.of("{\"type\":\"leave\",\"id\":1,\"doc\":\"a b\"}", 1),
                // join
                Arguments.of("{\"type\":\"join\",\"id\":1," + d + ",\"state\":[1]}", 1),
                Arguments.of("{\"type\":\"join\",\"id\":1," + d + ",\"state\":\"s\"}", 1),
                Arguments.of("{\"type\":\"join\",\"id\":1," + d + ",\"user\":\"u1\"}", 1),
                Arguments.of("{\"type\":\"join\",\"id\":1," + d + ",\"user\":{}}", 1),
                Arguments.of("{\"type\":\"join\",\"id\":1," + d + ",\"user\":{\"id\":7}}", 1),
                Arguments.of("{\"type\":\"join\",\"id\":1," + d + ",\"user\":{\"id\":\"u 1\"}}", 1),
                Arguments.of("{\"type\":\"join\",\"id\":1," + d + ",\"user\":{\"id\":\"u1\",\"name\":5}}", 1),
                Arguments.of("{\"type\":\"join\",\"id\":1," + d + ",\"user\":{\"id\":\"u1\",\"name\":\"" + "n".repeat(257) + "\"}}", 1),
                Arguments.of("{\"type\":\"join\",\"id\":1," + d + ",\"since\":5}", 1),
                // update
                Arguments.of("{\"type\":\"update\",\"id\":1," + d + "}", 1),
                Arguments.of("{\"type\":\"update\",\"id\":1," + d + ",\"state\":null}", 1),
                Arguments.of("{\"type\":\"update\",\"id\":1," + d + ",\"state\":[]}", 1),
                // typing
                Arguments.of("{\"type\":\"typing\",\"id\":1," + d + "}", 1),
                Arguments.of("{\"type\":\"typing\",\"id\":1," + d + ",\"typing\":\"true\"}", 1),
                Arguments.of("{\"type\":\"typing\",\"id\":1," + d + ",\"typing\":1}", 1),
                // broadcast
                Arguments.of("{\"type\":\"broadcast\",\"id\":1," + d + "}", 1),
                Arguments.of("{\"type\":\"broadcast\",\"id\":1," + d + ",\"data\":1,\"echo\":\"yes\"}", 1),
                // signal
                Arguments.of("{\"type\":\"signal\",\"id\":1," + d + ",\"data\":1}", 1),
                Arguments.of("{\"type\":\"signal\",\"id\":1," + d + ",\"to\":5,\"data\":1}", 1),
                Arguments.of("{\"type\":\"signal\",\"id\":1," + d + ",\"to\":\"m 1\",\"data\":1}", 1),
                Arguments.of("{\"type\":\"signal\",\"id\":1," + d + ",\"to\":\"m-1\"}", 1),
                // watch / unwatch
                Arguments.of("{\"type\":\"watch\",\"id\":1}", 1), Arguments.of("{\"type\":\"watch\",\"id\":1,\"users\":{}}", 1),
                Arguments.of("{\"type\":\"watch\",\"id\":1,\"users\":\"u1\"}", 1),
                Arguments.of("{\"type\":\"watch\",\"id\":1,\"users\":[1]}", 1),
                Arguments.of("{\"type\":\"watch\",\"id\":1,\"users\":[\"u1\",null]}", 1),
                Arguments.of("{\"type\":\"watch\",\"id\":1,\"users\":[\"{u1}\"]}", 1),
                Arguments.of("{\"type\":\"unwatch\",\"id\":1,\"users\":[\"a/b\"]}", 1),
                // auth
                Arguments.of("{\"type\":\"auth\",\"id\":1}", 1), Arguments.of("{\"type\":\"auth\",\"id\":1,\"token\":\"\"}", 1),
                Arguments.of("{\"type\":\"auth\",\"id\":1,\"token\":42}", 1));
    }

    @ParameterizedTest
    @MethodSource("badRequests")
    void wrongFieldsAreBadRequestEchoingTheId(String frame, Integer id) {
        assertRefused(frame, ErrorCode.BAD_REQUEST, id == null ? null : IntNode.valueOf(id));
    }

    @Test
    void aStringIdIsEchoedOnABadRequest() {
        assertRefused("{\"type\":\"typing\",\"id\":\"t-1\",\"doc\":\"d\",\"typing\":\"no\"}", ErrorCode.BAD_REQUEST, TextNode.valueOf("t-1"));
    }

    @ParameterizedTest
    @ValueSource(strings = { "dance", "", "JOIN", "Join", "join ", " ping", "__proto__", "constructor", "members", "joined",
            "pong", "error" })
    void unknownTypesAreUnknownTypeEchoingTheId(String type) {
        assertRefused("{\"type\":\"" + type + "\",\"id\":\"q\"}", ErrorCode.UNKNOWN_TYPE, TextNode.valueOf("q"));
    }

    @Test
    void theErrorForAHugeUnknownTypeDoesNotEchoItWhole() {
        ProtocolException e = refused("{\"type\":\"" + "z".repeat(60_000) + "\"}");
        assertEquals(ErrorCode.UNKNOWN_TYPE, e.code());
        assertThat(e.getMessage().length(), lessThan(500));
    }

    @Test
    void aWatchOfMoreThanAThousandUsersIsBadRequest() {
        StringBuilder users = new StringBuilder();
        for (int i = 0; i < 1001; i++) {
            users.append(i == 0 ? "" : ",").append("\"u").append(i).append('"');
        }
        assertRefused("{\"type\":\"watch\",\"id\":1,\"users\":[" + users + "]}", ErrorCode.BAD_REQUEST, IntNode.valueOf(1));
    }

    @ParameterizedTest
    @ValueSource(strings = { "", " ", "a b", "a/b", "a\\\\b", "a\\u0000b", "a\\nb", "abc\\n", "é", "日本", "ａ", "a\\u200bb",
            "{tag}", "a{b", "a}b", "a*", "a?b", "a#b", "a%20b", "a+b", "a,b", "a;b", "a\\\"b" })
    void idsOutsideTheContractAlphabetAreBadRequest(String bad) {
        assertRefused("{\"type\":\"join\",\"id\":1,\"doc\":\"" + bad + "\"}", ErrorCode.BAD_REQUEST, IntNode.valueOf(1));
        assertRefused("{\"type\":\"join\",\"id\":1,\"doc\":\"d\",\"user\":{\"id\":\"" + bad + "\"}}", ErrorCode.BAD_REQUEST,
                IntNode.valueOf(1));
        assertRefused("{\"type\":\"watch\",\"id\":1,\"users\":[\"" + bad + "\"]}", ErrorCode.BAD_REQUEST, IntNode.valueOf(1));
        assertFalse(Ids.valid(Codec.mapper().convertValue(tree("\"" + bad + "\""), String.class)));
    }

    @Test
    void idsAtTheLimitsOfTheContractAlphabetAreAccepted() {
        String longest = "a".repeat(128);
        assertEquals(longest, ((ClientMessage.Join) Codec.decode("{\"type\":\"join\",\"doc\":\"" + longest + "\"}")).doc());
        assertEquals("Az09._:-", ((ClientMessage.Join) Codec.decode("{\"type\":\"join\",\"doc\":\"Az09._:-\"}")).doc());
        assertRefused("{\"type\":\"join\",\"id\":1,\"doc\":\"" + "a".repeat(129) + "\"}", ErrorCode.BAD_REQUEST, IntNode.valueOf(1));
        assertRefused("{\"type\":\"join\",\"id\":1,\"doc\":\"d\",\"user\":{\"id\":\"" + "u".repeat(129) + "\"}}",
                ErrorCode.BAD_REQUEST, IntNode.valueOf(1));
    }

    // ---- nesting --------------------------------------------------------------------------------

    private static String nestedArrays(int depth) {
        return "[".repeat(depth) + "]".repeat(depth);
    }

    @Test
    void jsonNestedDeeperThan64IsBadJson() {
        // the message object is level 1, so data nested 63 deep makes a document 64 deep
        ClientMessage ok = Codec.decode("{\"type\":\"broadcast\",\"doc\":\"d\",\"data\":" + nestedArrays(Codec.MAX_DEPTH - 1) + "}");
        assertInstanceOf(ClientMessage.Broadcast.class, ok);
        assertRefused("{\"type\":\"broadcast\",\"id\":1,\"doc\":\"d\",\"data\":" + nestedArrays(Codec.MAX_DEPTH) + "}",
                ErrorCode.BAD_JSON, null);
        assertRefused("{\"type\":\"join\",\"doc\":\"d\",\"state\":" + "{\"a\":".repeat(100) + "1" + "}".repeat(100) + "}",
                ErrorCode.BAD_JSON, null);
        assertRefused(nestedArrays(10_000), ErrorCode.BAD_JSON, null);
        assertRefused("{\"a\":".repeat(10_000) + "1" + "}".repeat(10_000), ErrorCode.BAD_JSON, null);
        assertRefused("[".repeat(100_000), ErrorCode.BAD_JSON, null);
    }

    @Test
    void theErrorMessageOfBadJsonIsShortAndOneLine() {
        ProtocolException e = refused("{\"type\":\"" + "x".repeat(10_000));
        assertEquals(ErrorCode.BAD_JSON, e.code());
        assertThat(e.getMessage().length(), lessThan(300));
        assertFalse(e.getMessage().contains("\n"));
    }

    // ---- encoding -------------------------------------------------------------------------------

    private static final Member ADA = new Member("m-1", new UserRef("ada", "Ada"), State.of(object("{\"cursor\":{\"x\":1}}")), true,
            1_700_000_000_000L);
    private static final String ADA_JSON = "{\"id\":\"m-1\",\"user\":{\"id\":\"ada\",\"name\":\"Ada\"},"
            + "\"state\":{\"cursor\":{\"x\":1}},\"typing\":true,\"joinedAt\":1700000000000}";
    private static final Member ANON = new Member("m-2", new UserRef("anon-1", null), null, false, 5L);
    private static final String ANON_JSON = "{\"id\":\"m-2\",\"user\":{\"id\":\"anon-1\"},\"state\":{},\"typing\":false,\"joinedAt\":5}";

    private static void assertEncodes(String expected, ServerMessage message) {
        String encoded = Codec.encode(message);
        assertEquals(tree(expected), tree(encoded), () -> "encoding of " + message + " was " + encoded);
    }

    @Test
    void joined() {
        assertEncodes("{\"type\":\"joined\",\"id\":\"j\",\"doc\":\"d\",\"self\":\"m-1\",\"members\":[" + ADA_JSON + "," + ANON_JSON
                + "],\"offset\":\"3-0\",\"resumed\":true}",
                new ServerMessage.Joined(TextNode.valueOf("j"), "d", "m-1", List.of(ADA, ANON), "3-0", true));
        assertEncodes("{\"type\":\"joined\",\"id\":7,\"doc\":\"d\",\"self\":\"m-1\",\"members\":[],\"offset\":\"0\",\"resumed\":false}",
                new ServerMessage.Joined(IntNode.valueOf(7), "d", "m-1", List.of(), "0", false));
        assertEncodes("{\"type\":\"joined\",\"doc\":\"d\",\"self\":\"m-1\",\"members\":[" + ADA_JSON + "],\"offset\":\"3-0\"}",
                new ServerMessage.Joined(null, "d", "m-1", List.of(ADA), "3-0", null));
    }

    @Test
    void theNodeOfAMemberNeverReachesAClient() {
        String encoded = Codec.encode(new ServerMessage.Joined(null, "d", "m-1", List.of(ADA), "1", null));
        assertFalse(encoded.contains("node"), encoded);
        String stored = Codec.encodeStoredMember(ADA, "node-7.1a2b3c4d");
        assertTrue(stored.endsWith(",\"node\":\"node-7.1a2b3c4d\"}"), "the stored record ends with it: " + stored);
        assertEquals(ADA, Codec.decodeStoredMember(stored));
    }

    @Test
    void presence() {
        assertEncodes("{\"type\":\"presence\",\"doc\":\"d\",\"event\":\"join\",\"member\":" + ADA_JSON + ",\"offset\":\"4-0\"}",
                new ServerMessage.Presence("d", "join", ADA, null, "4-0"));
        assertEncodes("{\"type\":\"presence\",\"doc\":\"d\",\"event\":\"leave\",\"member\":" + ANON_JSON
                + ",\"reason\":\"timeout\",\"offset\":\"5-0\"}", new ServerMessage.Presence("d", "leave", ANON, "timeout", "5-0"));
        assertEncodes("{\"type\":\"presence\",\"doc\":\"d\",\"event\":\"update\",\"member\":" + ADA_JSON + "}",
                new ServerMessage.Presence("d", "update", ADA, null, null));
    }

    @Test
    void typingMessage() {
        assertEncodes("{\"type\":\"typing\",\"doc\":\"d\",\"member\":\"m-1\",\"user\":\"ada\",\"typing\":true}",
                new ServerMessage.Typing("d", "m-1", "ada", true));
        assertEncodes("{\"type\":\"typing\",\"doc\":\"d\",\"member\":\"m-1\",\"user\":\"ada\",\"typing\":false}",
                new ServerMessage.Typing("d", "m-1", "ada", false));
    }

    @Test
    void broadcast() {
        assertEncodes("{\"type\":\"broadcast\",\"doc\":\"d\",\"from\":\"m-1\",\"data\":{\"a\":[1,null]},\"offset\":\"6-0\"}",
                new ServerMessage.Broadcast("d", "m-1", tree("{\"a\":[1,null]}"), "6-0"));
        assertEncodes("{\"type\":\"broadcast\",\"doc\":\"d\",\"from\":\"server\",\"data\":null,\"offset\":\"7-0\"}",
                new ServerMessage.Broadcast("d", "server", NullNode.getInstance(), "7-0"));
    }

    @Test
    void signalMessage() {
        assertEncodes("{\"type\":\"signal\",\"doc\":\"d\",\"from\":\"m-1\",\"data\":{\"ice\":\"c\"}}",
                new ServerMessage.Signal("d", "m-1", tree("{\"ice\":\"c\"}")));
    }

    @Test
    void status() {
        assertEncodes("{\"type\":\"status\",\"user\":\"ada\",\"online\":true}", new ServerMessage.Status("ada", true, null));
        assertEncodes("{\"type\":\"status\",\"user\":\"ada\",\"online\":false,\"lastSeen\":1700000000001}",
                new ServerMessage.Status("ada", false, 1_700_000_000_001L));
        assertEncodes("{\"type\":\"status\",\"user\":\"bob\",\"online\":false}", new ServerMessage.Status("bob", false, null));
    }

    @Test
    void ackErrorPong() {
        assertEncodes("{\"type\":\"ack\",\"id\":\"a\"}", new ServerMessage.Ack(TextNode.valueOf("a")));
        assertEncodes("{\"type\":\"ack\",\"id\":-1}", new ServerMessage.Ack(IntNode.valueOf(-1)));
        assertEncodes("{\"type\":\"error\",\"id\":3,\"code\":\"not_joined\",\"message\":\"not a member\"}",
                new ServerMessage.Error(IntNode.valueOf(3), "not_joined", "not a member"));
        assertEncodes("{\"type\":\"error\",\"code\":\"bad_json\",\"message\":\"m\"}", new ServerMessage.Error(null, "bad_json", "m"));
        assertEncodes("{\"type\":\"pong\",\"id\":\"p\"}", new ServerMessage.Pong(TextNode.valueOf("p")));
        assertEncodes("{\"type\":\"pong\"}", new ServerMessage.Pong(null));
    }

    @Test
    void membersSnapshot() {
        assertEncodes("{\"type\":\"members\",\"doc\":\"d\",\"members\":[" + ANON_JSON + "],\"offset\":\"8-0\"}",
                new ServerMessage.Members("d", List.of(ANON), "8-0"));
    }

    @Test
    void everyErrorCodeHasItsWireName() {
        assertEquals(List.of("bad_json", "bad_request", "unknown_type", "not_joined", "unknown_member", "forbidden", "unauthorized",
                "too_large", "rate_limited", "doc_full", "too_many_docs", "internal"),
                Stream.of(ErrorCode.values()).map(ErrorCode::wire).toList());
        assertEquals(List.of(ErrorCode.BAD_JSON, ErrorCode.BAD_REQUEST, ErrorCode.UNKNOWN_TYPE),
                Stream.of(ErrorCode.values()).filter(ErrorCode::countsAsBad).toList());
    }

    @Test
    void hostileStringsAreEscapedAndRoundTrip() {
        String nasty = "\"},{\"type\":\"ack\"}\\\u0000\u0001\u001f\u2028\u2029日本🙂</script>";
        Member m = new Member("m-1", new UserRef("u", nasty), State.of(object("{}").put(nasty, nasty)), false, 1);
        String encoded = Codec.encode(new ServerMessage.Presence("d", "update", m, null, null));
        JsonNode back = tree(encoded);
        assertEquals("presence", back.get("type").asText());
        assertEquals(nasty, back.at("/member/user/name").asText());
        assertEquals(nasty, back.at("/member/state").get(nasty).asText());
        for (char c = 0; c < 0x20; c++) {
            assertFalse(encoded.indexOf(c) >= 0, "a raw control character in the frame: " + (int) c);
        }
        assertThat(Codec.encode(new ServerMessage.Error(TextNode.valueOf(nasty), "bad_request", nasty)), containsString("\\\""));
    }

    // ---- durable events: prefix + offset --------------------------------------------------------

    static Stream<ServerMessage> durables() {
        return Stream.of(new ServerMessage.Presence("d", "join", ADA, null, "12-3"),
                new ServerMessage.Presence("d", "leave", ANON, "closed", "12-4"),
                new ServerMessage.Presence("d", "leave", ADA, "left", "0"),
                new ServerMessage.Broadcast("d", "m-1", tree("{\"x\":\"\\\"}\"}"), "13-0"),
                new ServerMessage.Broadcast("d", "server", NullNode.getInstance(), "1717171717171-0"),
                new ServerMessage.Broadcast("d", "m-1", tree("[1,[2,[3]]]"), "a:b.c-d"));
    }

    @ParameterizedTest
    @MethodSource("durables")
    void durablePrefixWithOffsetIsTheEncodingWithTheOffset(ServerMessage durable) {
        String offset = durable instanceof ServerMessage.Presence p ? p.offset() : ((ServerMessage.Broadcast) durable).offset();
        ServerMessage withoutOffset = durable instanceof ServerMessage.Presence p
                ? new ServerMessage.Presence(p.doc(), p.event(), p.member(), p.reason(), null)
                : new ServerMessage.Broadcast(((ServerMessage.Broadcast) durable).doc(), ((ServerMessage.Broadcast) durable).from(),
                        ((ServerMessage.Broadcast) durable).data(), null);
        String full = Codec.encode(durable);
        assertEquals(full, Codec.withOffset(Codec.durablePrefix(durable), offset));
        assertEquals(full, Codec.withOffset(Codec.durablePrefix(withoutOffset), offset), "the prefix ignores any offset");
        assertTrue(full.endsWith(",\"offset\":\"" + offset + "\"}"), "the offset is the last field: " + full);
        assertEquals(offset, tree(full).get("offset").asText());
        assertEquals(tree(Codec.encode(withoutOffset)), ((ObjectNode) tree(full)).without("offset"));
    }

    @Test
    void onlyDurableEventsHaveAPrefix() {
        assertThrows(IllegalArgumentException.class, () -> Codec.durablePrefix(new ServerMessage.Pong(null)));
        assertThrows(IllegalArgumentException.class, () -> Codec.durablePrefix(new ServerMessage.Typing("d", "m", "u", true)));
    }

    @Test
    void decodingNeverThrowsAnythingButProtocolException() {
        for (String frame : new String[] { "\uD800", "{\"type\":\"ping\",\"id\":\"\uD800\"}", "\uFFFF", "{\"\uDFFF\":1}",
                "{\"type\":\"join\",\"doc\":\"d\",\"state\":{\"k\":1e999999}}", "-", "1e", "\"", "{\"type\":\"ping\",\"id\":-}" }) {
            try {
                Codec.decode(frame);
            } catch (ProtocolException expected) {
                assertNull(expected.getCause());
            }
        }
    }
}
