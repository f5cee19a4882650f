package dev.copresence.transport;

import java.util.ArrayList;
import java.util.List;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpServerRequest;

import dev.copresence.engine.Engine;
import dev.copresence.engine.UserStatus;
import dev.copresence.protocol.Codec;
import dev.copresence.protocol.ErrorCode;
import dev.copresence.protocol.Ids;
import dev.copresence.protocol.ProtocolException;
import dev.copresence.protocol.ServerMessage;

/**
 * The server API: members of a document, server-side broadcasts, online status. Bodies are read and
 * written with the protocol codec, so errors have the WebSocket {@code error} shape.
 */
@Path("/api")
@Produces(MediaType.APPLICATION_JSON)
public class RestApi {
    /** Users one status request may ask about. */
    static final int MAX_USERS = 1000;

    private final Engine engine;

    public RestApi(Engine engine) {
        this.engine = engine;
    }

    @GET
    @Path("/documents/{doc}/members")
    public Uni<Response> members(@PathParam("doc") String doc) {
        // the contract's answer is the SSE members event without its "type"
        return guard(() -> engine.registry().snapshot(Ids.requireDoc(doc)).map(s -> ok("{\"doc\":" + Codec.quote(doc)
                + ",\"members\":" + Codec.encodeMembers(s.members()) + ",\"offset\":" + Codec.quote(s.offset()) + "}")));
    }

    @POST
    @Path("/documents/{doc}/broadcast")
    @Consumes(MediaType.WILDCARD)
    public Uni<Response> broadcast(@PathParam("doc") String doc, String body) {
        return guard(() -> {
            Ids.requireDoc(doc);
            JsonNode data = dataOf(body);
            String prefix = Codec.durablePrefix(new ServerMessage.Broadcast(doc, "server", data, null));
            return engine.log().broadcast(doc, null, true, prefix).map(offset -> {
                ObjectNode answer = Codec.mapper().createObjectNode().put("offset", offset);
                return ok(answer.toString());
            });
        });
    }

    private static JsonNode dataOf(String body) {
        if (body == null || body.isBlank()) {
            throw ProtocolException.badRequest("the body must be a JSON object {\"data\": any}");
        }
        JsonNode json = Codec.readTreeOrNull(body);
        if (json == null) {
            throw new ProtocolException(ErrorCode.BAD_JSON, "the body is not valid JSON");
        }
        if (!json.isObject() || !json.has("data")) {
            throw ProtocolException.badRequest("the body must be a JSON object {\"data\": any}");
        }
        return json.get("data");
    }

    @GET
    @Path("/status")
    public Uni<Response> status(HttpServerRequest request) {
        // read from Vert.x: the @QueryParam of an empty value is null, as if it were left out
        return guard(() -> engine.registry().status(parseUsers(request.getParam("users"))).map(RestApi::statusJson));
    }

    /**
     * {@code u1,u2,…}: each a valid user id, at most {@link #MAX_USERS}; one answer per user asked.
     * Empty ({@code ?users=}) is a list of none, as {@code users: []} in a watch: a client asking
     * about whoever is in a list sends it as it is. Left out, it is a mistake.
     */
    static List<String> parseUsers(String users) {
        if (users == null) {
            throw ProtocolException.badRequest("users is required: ?users=u1,u2");
        }
        if (users.isEmpty()) {
            return List.of();
        }
        String[] asked = users.split(",", -1);
        if (asked.length > MAX_USERS) {
            throw ProtocolException.badRequest("at most " + MAX_USERS + " users per request");
        }
        List<String> ids = new ArrayList<>(asked.length);
        for (String user : asked) {
            ids.add(Ids.requireUser(user));
        }
        return ids;
    }

    private static Response statusJson(List<UserStatus> statuses) {
        ArrayNode array = Codec.mapper().createArrayNode();
        for (UserStatus s : statuses) {
            ObjectNode o = array.addObject().put("user", s.user()).put("online", s.online());
            if (s.lastSeen() != null) {
                o.put("lastSeen", s.lastSeen());
            }
        }
        return ok(array.toString());
    }

    private interface Action {
        Uni<Response> run();
    }

    /** Turns a refused request into {@code 400} with the protocol's error object, a failure into 503. */
    private static Uni<Response> guard(Action action) {
        Uni<Response> result;
        try {
            result = action.run();
        } catch (ProtocolException e) {
            return Uni.createFrom().item(error(e));
        }
        return result.onFailure().recoverWithItem(t -> t instanceof ProtocolException p ? error(p)
                : Response.status(503).type(MediaType.APPLICATION_JSON)
                        .entity(Codec.encode(new ServerMessage.Error(null, ErrorCode.INTERNAL.wire(),
                                "the registry is unreachable; try again")))
                        .build());
    }

    static Response error(ProtocolException e) {
        int status = e.code() == ErrorCode.UNAUTHORIZED ? 401 : e.code() == ErrorCode.FORBIDDEN ? 403 : 400;
        return Response.status(status).type(MediaType.APPLICATION_JSON)
                .entity(Codec.encode(new ServerMessage.Error(null, e.code().wire(), e.getMessage()))).build();
    }

    static Response ok(String json) {
        // written as UTF-8, which has no form for a lone surrogate (it would come out as '?')
        return Response.ok(Codec.escapeLoneSurrogates(json), MediaType.APPLICATION_JSON).build();
    }
}
