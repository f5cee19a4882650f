package dev.copresence.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.objectweb.asm.AnnotationVisitor;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

import io.quarkus.websockets.next.OnBinaryMessage;
import io.quarkus.websockets.next.OnTextMessage;
import io.quarkus.websockets.next.WebSocket;
import io.vertx.core.buffer.Buffer;

/**
 * Native-image readiness of our own code, without GraalVM: reads the compiled classes
 * (target/classes) and lists every call that a native image only supports with registration
 * (reflective JSON binding, Class.forName, member lookup, dynamic proxies, resource loading, Java
 * serialization, POJO codecs of websockets-next). Each one found must be in {@link #REVIEWED} with the
 * reason it is safe; a new one fails here until someone checks it against the generated native
 * configuration (NativeSourcesIT) and registers what it needs ({@code @RegisterForReflection},
 * {@code quarkus.native.resources.includes}).
 */
class ReflectionFreeCodeTest {
    static final Path CLASSES = Path.of("target", "classes");

    /** owner.method of calls that need native configuration (JVM internal names). */
    static final Map<String, Set<String>> SENSITIVE = Map.ofEntries(
            Map.entry("com/fasterxml/jackson/databind/ObjectMapper", Set.of("readValue", "readValues", "treeToValue",
                    "convertValue", "valueToTree", "writeValueAsString", "writeValueAsBytes", "writeValue", "readerFor",
                    "writerFor", "updateValue", "readerForUpdating")),
            Map.entry("com/fasterxml/jackson/databind/ObjectReader", Set.of("readValue", "readValues", "treeToValue")),
            Map.entry("com/fasterxml/jackson/databind/ObjectWriter", Set.of("writeValueAsString", "writeValueAsBytes", "writeValue")),
            Map.entry("com/fasterxml/jackson/core/JsonGenerator", Set.of("writeObject", "writePOJO")),
            Map.entry("com/fasterxml/jackson/core/JsonParser", Set.of("readValueAs", "readValuesAs")),
            Map.entry("java/lang/Class", Set.of("forName", "newInstance", "getDeclaredMethod", "getDeclaredMethods", "getMethod",
                    "getMethods", "getDeclaredField", "getDeclaredFields", "getField", "getFields", "getDeclaredConstructor",
                    "getDeclaredConstructors", "getConstructor", "getConstructors", "getResource", "getResourceAsStream")),
            Map.entry("java/lang/ClassLoader", Set.of("loadClass", "getResource", "getResourceAsStream", "getResources")),
            Map.entry("java/lang/reflect/Proxy", Set.of("newProxyInstance")),
            Map.entry("java/lang/reflect/Method", Set.of("invoke")),
            Map.entry("java/lang/reflect/Field", Set.of("get", "set")),
            Map.entry("java/io/ObjectOutputStream", Set.of("writeObject")),
            Map.entry("java/io/ObjectInputStream", Set.of("readObject")),
            Map.entry("io/vertx/core/json/JsonObject", Set.of("mapFrom", "mapTo")),
            Map.entry("io/vertx/core/json/Json", Set.of("encode", "encodePrettily", "encodeToBuffer", "decodeValue")),
            Map.entry("io/quarkus/redis/datasource/ReactiveRedisDataSource", Set.of("value", "hash", "list", "set", "sortedSet",
                    "stream", "json", "pubsub", "geo", "bitmap")),
            Map.entry("io/quarkus/redis/datasource/RedisDataSource", Set.of("value", "hash", "list", "set", "sortedSet",
                    "stream", "json", "pubsub", "geo", "bitmap")));

    /** websockets-next senders: sendText(Object) goes through a Jackson codec (reflection). */
    static final Set<String> SENDERS = Set.of("io/quarkus/websockets/next/Sender", "io/quarkus/websockets/next/WebSocketConnection",
            "io/quarkus/websockets/next/Connection", "io/quarkus/websockets/next/BroadcastSender",
            "io/quarkus/websockets/next/WebSocketConnection$BroadcastSender");

    /** Calls found and checked, by "class -> owner.method", with why each is safe in a native image. */
    static final Map<String, String> REVIEWED = Map.of(
            "dev/copresence/protocol/Codec -> com/fasterxml/jackson/databind/ObjectMapper.writeValueAsBytes",
            "serializes a JsonNode tree to measure a state's size: tree nodes, no bean reflection",
            "dev/copresence/engine/redis/RedisScripts -> java/lang/ClassLoader.getResourceAsStream",
            "loads redis/*.lua, kept by quarkus.native.resources.includes (NativeSourcesIT checks the generated config)");

    @Test
    void everyCallNeedingNativeConfigurationIsReviewed() throws IOException {
        assertTrue(Files.isDirectory(CLASSES.resolve("dev/copresence")), "compile first: " + CLASSES + " is missing");
        Map<String, String> found = new TreeMap<>();
        try (Stream<Path> files = Files.walk(CLASSES.resolve("dev/copresence"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".class")).toList()) {
                scan(file, found);
            }
        }
        List<String> unreviewed = new ArrayList<>();
        for (Map.Entry<String, String> call : found.entrySet()) {
            if (!REVIEWED.containsKey(call.getKey())) {
                unreviewed.add(call.getKey() + "  (" + call.getValue() + ")");
            }
        }
        assertTrue(unreviewed.isEmpty(), "calls a native image only supports with registration; check each against "
                + "target/native-sources (NativeSourcesIT), register what it needs, then list it in REVIEWED:\n  "
                + String.join("\n  ", unreviewed));
    }

    @Test
    void noClassNeedsRegistrationForReflection() throws IOException {
        // None is registered today because none needs it; one that appears must be justified.
        Set<String> registered = new TreeSet<>();
        try (Stream<Path> files = Files.walk(CLASSES.resolve("dev/copresence"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".class")).toList()) {
                if (annotated(file, "Lio/quarkus/runtime/annotations/RegisterForReflection;")) {
                    registered.add(CLASSES.relativize(file).toString());
                }
            }
        }
        assertEquals(Set.of(), registered, "@RegisterForReflection classes (NativeSourcesIT checks they reach reflect-config)");
    }

    @Test
    void webSocketEndpointsTakeAndReturnOnlyText() throws Exception {
        List<Class<?>> endpoints = new ArrayList<>();
        try (Stream<Path> files = Files.walk(CLASSES.resolve("dev/copresence"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".class")).toList()) {
                if (annotated(file, "Lio/quarkus/websockets/next/WebSocket;")) {
                    String name = CLASSES.relativize(file).toString().replace('/', '.').replaceAll("\\.class$", "");
                    endpoints.add(Class.forName(name));
                }
            }
        }
        assertFalse(endpoints.isEmpty(), "no @WebSocket endpoint found");
        Set<Type> wire = Set.of(String.class, Buffer.class, byte[].class);
        for (Class<?> endpoint : endpoints) {
            assertTrue(endpoint.isAnnotationPresent(WebSocket.class));
            for (Method method : endpoint.getDeclaredMethods()) {
                if (method.isAnnotationPresent(OnTextMessage.class) || method.isAnnotationPresent(OnBinaryMessage.class)) {
                    boolean text = Stream.of(method.getGenericParameterTypes()).anyMatch(wire::contains);
                    assertTrue(text, endpoint.getSimpleName() + "." + method.getName()
                            + " takes a POJO: websockets-next would decode it with Jackson reflection");
                    Type returned = method.getGenericReturnType();
                    assertTrue(returned == void.class || isUniOfVoid(returned), endpoint.getSimpleName() + "." + method.getName()
                            + " returns " + returned + ": a returned object is encoded with Jackson reflection");
                }
            }
        }
    }

    private static boolean isUniOfVoid(Type type) {
        return type instanceof ParameterizedType p && p.getRawType().getTypeName().equals("io.smallrye.mutiny.Uni")
                && p.getActualTypeArguments()[0] == Void.class;
    }

    private static void scan(Path file, Map<String, String> found) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            ClassReader reader = new ClassReader(in);
            String owner = reader.getClassName();
            String top = owner.contains("$") ? owner.substring(0, owner.indexOf('$')) : owner;
            reader.accept(new ClassVisitor(Opcodes.ASM9) {
                @Override
                public MethodVisitor visitMethod(int access, String name, String descriptor, String signature, String[] exceptions) {
                    String where = owner + "." + name;
                    return new MethodVisitor(Opcodes.ASM9) {
                        @Override
                        public void visitMethodInsn(int opcode, String callOwner, String callName, String callDescriptor,
                                boolean isInterface) {
                            Set<String> names = SENSITIVE.get(callOwner);
                            if (names != null && names.contains(callName)) {
                                found.merge(top + " -> " + callOwner + "." + callName, where, (a, b) -> a + ", " + b);
                            }
                            if (SENDERS.contains(callOwner) && callName.startsWith("sendText")
                                    && callDescriptor.startsWith("(Ljava/lang/Object;")) {
                                found.merge(top + " -> " + callOwner + "." + callName + "(Object)", where, (a, b) -> a + ", " + b);
                            }
                        }
                    };
                }
            }, ClassReader.SKIP_FRAMES);
        }
    }

    private static boolean annotated(Path file, String descriptor) throws IOException {
        boolean[] present = {false};
        try (InputStream in = Files.newInputStream(file)) {
            new ClassReader(in).accept(new ClassVisitor(Opcodes.ASM9) {
                @Override
                public AnnotationVisitor visitAnnotation(String desc, boolean visible) {
                    present[0] |= desc.equals(descriptor);
                    return null;
                }
            }, ClassReader.SKIP_CODE);
        }
        return present[0];
    }
}
